#!/usr/bin/env python3
"""Writes workloads/synthetic-lambda.log: a SYNTHETIC CloudWatch Logs export of one Lambda function
(START, application output, END and REPORT lines, each with its timestamp), written by faasplan's
authors for examples and tests. No real account or function is behind it.

Model: Poisson arrivals at 0.5/s for 30 minutes, plus bursts of 5 to 25 requests within 200 ms
about every 90 s; durations lognormal (median 120 ms). A request reuses a free instance that has been
idle for less than 2 minutes, else it is a cold start with an Init Duration drawn lognormal (median
180 ms, p99 about 420 ms). Fixed seed, standard
library only. Run `python3 workloads/gen_example_log.py` to regenerate, `--check` to verify."""
import datetime as dt
import math
import random
import sys
import uuid

OUT = "workloads/synthetic-lambda.log"


def main():
    rng = random.Random(2024)
    start = dt.datetime(2024, 3, 1, 9, 0, 0, tzinfo=dt.timezone.utc)
    lines, idle = [], []  # idle: instance free-at times
    lines.append("# SYNTHETIC example log written for faasplan (not from a real account); see workloads/README.md")
    arrivals, t = [], 0.0
    while t < 1800:
        arrivals.append(t)
        t += rng.expovariate(0.5)
    t = rng.expovariate(1 / 90)
    while t < 1800:
        arrivals.extend(t + rng.uniform(0, 0.2) for _ in range(rng.randint(5, 25)))
        t += rng.expovariate(1 / 90)
    arrivals = sorted(a for a in arrivals if a < 1800)
    events = []
    for t in arrivals:
        dur = 120 * math.exp(0.45 * rng.gauss(0, 1))
        warm = [f for f in idle if f <= t and t - f < 120]
        init = None
        if warm:
            idle.remove(max(warm))
        else:
            init = 180 * math.exp(0.364 * rng.gauss(0, 1))
        idle = [f for f in idle if f > t or t - f < 120]
        begin = t + (init or 0) / 1000
        end = begin + dur / 1000
        idle.append(end)
        rid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        stamp = lambda s: (start + dt.timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        events.append((begin, f"{stamp(begin)} START RequestId: {rid} Version: $LATEST"))
        events.append((begin + 0.001, f"{stamp(begin + 0.001)} {rid}\tINFO\tprocessing order"))
        events.append((end, f"{stamp(end)} END RequestId: {rid}"))
        report = (f"{stamp(end)} REPORT RequestId: {rid}\tDuration: {dur:.2f} ms\t"
                  f"Billed Duration: {math.ceil(dur)} ms\tMemory Size: 512 MB\t"
                  f"Max Memory Used: {rng.randint(70, 95)} MB\t")
        if init is not None:
            report += f"Init Duration: {init:.2f} ms\t"
        events.append((end, report))
    # A log stream is in time order; a stable sort keeps START before END before REPORT.
    events.sort(key=lambda e: e[0])
    lines.extend(line for _, line in events)
    text = "\n".join(lines) + "\n"
    if "--check" in sys.argv:
        with open(OUT) as f:
            if f.read() != text:
                sys.exit(f"{OUT} is out of date: run python3 workloads/gen_example_log.py")
        return
    with open(OUT, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
