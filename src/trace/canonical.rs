//! Reader for the canonical trace CSV (see `workloads/README.md`).
