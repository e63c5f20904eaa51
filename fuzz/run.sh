#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 20) on its checked-in seeds (fuzz/seeds/T) and
# what earlier runs found (fuzz/corpus/T, not checked in), and fails on any crash: a panic, a
# broken contract (see fuzz/src/lib.rs), more than 2 GB of memory or 10 s on one input. The
# crashing input is kept in fuzz/artifacts/T/; replay it with
#   cd fuzz && cargo +nightly fuzz run -O -a -s none T artifacts/T/crash-...
#
# Needs the nightly toolchain and cargo-fuzz (installed here with `cargo install cargo-fuzz
# --locked` when missing). Without either it says so and exits 0: the stable build never needs
# them. Environment: FUZZ_PROFILE (release, the default: optimised, for long runs; or dev:
# builds about 4x faster and runs about 5x slower, for CI's short runs), FUZZ_SANITIZER (none,
# the default, or address), FUZZ_TARGETS (a space-separated subset), FUZZ_JOBS (parallel jobs
# per target, default 1).
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-20}
sanitizer=${FUZZ_SANITIZER:-none}
jobs=${FUZZ_JOBS:-1}

skip() {
    echo "fuzz: SKIPPED: $*"
    exit 0
}

cargo +nightly --version >/dev/null 2>&1 || skip "no nightly toolchain (rustup toolchain install nightly)"
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "== cargo install cargo-fuzz --locked"
    cargo install cargo-fuzz --locked >/tmp/faasplan-cargo-fuzz-install.log 2>&1 ||
        skip "cargo-fuzz could not be installed (see /tmp/faasplan-cargo-fuzz-install.log)"
fi

# -O: optimised; -a: with debug assertions, so that an integer overflow is a crash as it is in a
# debug build of faasplan (a dev build has them anyway).
case ${FUZZ_PROFILE:-release} in
    release) flags=(-O -a -s "$sanitizer") ;;
    dev) flags=(--dev -s "$sanitizer") ;;
    *) echo "FUZZ_PROFILE must be release or dev" >&2; exit 2 ;;
esac
echo "== cargo fuzz build ${flags[*]}"
cargo +nightly fuzz build "${flags[@]}"

targets=${FUZZ_TARGETS:-$(cargo +nightly fuzz list)}
failed=()
for t in $targets; do
    mkdir -p "corpus/$t"
    log=$(mktemp)
    echo "== fuzz $t for ${seconds}s"
    if cargo +nightly fuzz run "${flags[@]}" --jobs "$jobs" "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        >"$log" 2>&1; then
        execs=$(grep -h 'stat::number_of_executed_units' "$log" | awk '{s += $2} END {print s + 0}')
        echo "$t: ok, $execs executions, $(ls "corpus/$t" | wc -l) inputs in corpus/$t"
    else
        tail -n 40 "$log"
        echo "$t: CRASH (input in fuzz/artifacts/$t/)"
        failed+=("$t")
    fi
    rm -f "$log"
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: crashes in ${failed[*]}"
    exit 1
fi
echo "fuzz: no crash in $(echo $targets | wc -w) targets"
