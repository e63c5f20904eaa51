#!/usr/bin/env python3
"""Generates the example traces in this folder (see README.md). Deterministic, stdlib only.

    python3 workloads/gen_examples.py            # rewrite the CSV files next to this script
    python3 workloads/gen_examples.py --check    # exit 1 if a file differs from what it would write
"""

import io
import math
import random
import sys
from pathlib import Path

SEED = 20240301
HERE = Path(__file__).resolve().parent
# 2024-03-01T09:00:12.345Z in Unix-epoch milliseconds: deliberately not on a whole minute, so the
# trace origin (first arrival floored to the minute) is 09:00:00.
EPOCH_START_MS = 1_709_283_612_345


def poisson(rng, rate_per_s, start_s, end_s):
    """Arrival times (seconds) of a Poisson process with the given rate on [start_s, end_s)."""
    t = start_s
    out = []
    while True:
        t += rng.expovariate(rate_per_s)
        if t >= end_s:
            return out
        out.append(t)


def lognormal_ms(rng, median_ms, sigma):
    return rng.lognormvariate(math.log(median_ms), sigma)


def api_steady(rng):
    """One sync function, Poisson arrivals at 5/s for 30 minutes, lognormal durations (median 80 ms)."""
    rows = [
        (t * 1000.0, "api", lognormal_ms(rng, 80, 0.5), 512, "sync")
        for t in poisson(rng, 5.0, 0.0, 30 * 60)
    ]
    out = io.StringIO()
    out.write("timestamp_ms,function,duration_ms,memory_mb,trigger\n")
    for ts, fn, d, mem, trig in rows:
        out.write(f"{ts:.3f},{fn},{d:.1f},{mem},{trig}\n")
    return out.getvalue()


# name, requests per second, median duration (ms), sigma, memory (MB), trigger
MULTI = [
    ("checkout", 1.5, 120, 0.6, 1024, "sync"),
    ("thumbnail", 0.5, 400, 0.4, 2048, "async"),
    ("orders-worker", 1.0, 60, 0.8, 512, "queue"),
    # Sparse: one request every 4 minutes on average, so whether an instance is still warm
    # depends on the keep-alive.
    ("nightly-report", 1 / 240, 900, 0.3, 256, "sync"),
]


def multi_function(rng):
    """Four functions over one hour, Unix-epoch timestamps, rows in time order."""
    rows = []
    for name, rate, median, sigma, mem, trig in MULTI:
        for t in poisson(rng, rate, 0.0, 3600.0):
            ts = EPOCH_START_MS + round(t * 1000.0)
            rows.append((ts, name, lognormal_ms(rng, median, sigma), mem, trig))
    rows.sort(key=lambda r: r[0])  # stable: equal times keep function order
    out = io.StringIO()
    out.write("timestamp_ms,function,duration_ms,memory_mb,trigger\n")
    for ts, fn, d, mem, trig in rows:
        out.write(f"{ts},{fn},{d:.1f},{mem},{trig}\n")
    return out.getvalue()


# (start s, end s, requests per second): a 2/s base with three spikes on top.
BURSTS = [(0, 1200, 2.0), (240, 260, 60.0), (660, 705, 40.0), (960, 970, 100.0)]


def bursty_unsorted(rng):
    """Bursty arrivals over 20 minutes, written as two collectors' logs one after the other."""
    times = sorted(t for a, b, rate in BURSTS for t in poisson(rng, rate, a, b))
    rows = []
    for i, t in enumerate(times):
        rows.append((f"req-{i:05d}", t * 1000.0, lognormal_ms(rng, 150, 0.7)))
    # Each request went to one of two collectors; their logs are concatenated, so the file is
    # sorted within each half but not as a whole.
    a, b = [], []
    for r in rows:
        (a if rng.random() < 0.5 else b).append(r)
    out = io.StringIO()
    # Columns in another order than usual, plus `request_id`, which faasplan ignores.
    out.write("request_id,function,timestamp_ms,duration_ms\n")
    for rid, ts, d in a + b:
        out.write(f"{rid},ingest,{ts:.3f},{d:.1f}\n")
    return out.getvalue()


FILES = [
    ("api-steady.csv", api_steady),
    ("multi-function.csv", multi_function),
    ("bursty-unsorted.csv", bursty_unsorted),
]


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for i, (name, gen) in enumerate(FILES):
        text = gen(random.Random(SEED + i))
        path = HERE / name
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8", newline="\n")
            print(f"{path}: {text.count(chr(10)) - 1} rows, {len(text)} bytes")
    if stale:
        print("out of date: " + ", ".join(stale) + " (run workloads/gen_examples.py)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
