#!/usr/bin/env python3
"""Writes the checked-in seed corpus of every fuzz target from the repository's example inputs
(workloads/, tests/data/, pricing/), a few KB each. Run from anywhere: python3 fuzz/seeds/make.py

Each seed starts with the target's selector byte (options or parser, see the target's doc)."""
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def read(rel):
    with open(os.path.join(ROOT, rel), "rb") as f:
        return f.read()


def head(rel, lines):
    return b"".join(read(rel).splitlines(keepends=True)[:lines])


def write(target, name, data):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def azure2019(minutes=10):
    """A day file cut to its first minutes, its durations and memory rows, short hashes."""
    day = read("tests/data/azure2019/day1.csv").decode().splitlines()
    hashes = {}

    def short(h):
        return hashes.setdefault(h, "h%d" % len(hashes))

    cols = day[0].split(",")[: 4 + minutes]
    rows = [",".join(cols)]
    for line in day[1:3]:
        f = line.split(",")
        # The day's first non-zero counts, so that the short day is not empty.
        counts = ([c for c in f[4:] if c != "0"] + ["0"] * minutes)[:minutes]
        rows.append(",".join([short(f[0]), short(f[1]), short(f[2]), f[3]] + counts))

    def companion(rel, n_keys):
        lines = read(rel).decode().splitlines()
        out = [lines[0]]
        for line in lines[1:]:
            f = line.split(",")
            if all(k in hashes for k in f[:n_keys]):
                out.append(",".join([short(k) for k in f[:n_keys]] + f[n_keys:]))
        return "\n".join(out)

    durations = companion("tests/data/azure2019/durations.csv", 3)
    memory = companion("tests/data/azure2019/memory.csv", 2)
    return "\n".join(rows), durations, memory


def main():
    for t in os.listdir(HERE):
        if os.path.isdir(os.path.join(HERE, t)):
            shutil.rmtree(os.path.join(HERE, t))
    for i, (rel, n) in enumerate(
        [
            ("workloads/api-steady.csv", 30),
            ("workloads/multi-function.csv", 30),
            ("workloads/bursty-unsorted.csv", 30),
            ("tests/data/snapshot.csv", 40),
            ("tests/data/bad/mixed_bad_rows.csv", 20),
        ]
    ):
        write("canonical", "%d-ms" % i, bytes([0]) + head(rel, n))
        write("canonical", "%d-skip" % i, bytes([1]) + head(rel, n))
    write("canonical", "seconds", b"\x00timestamp_s,function,duration_s,memory_mb,trigger\n0.5,f,0.1,512,http\n1.25,g,2,128,queue\n")
    write("canonical", "iso", b"\x00timestamp,function_name,duration\n2024-05-01T12:00:00.123Z,a,15\n2024-05-01T12:00:01Z,a,20\n")
    write("canonical", "epoch-unit", b"\x04timestamp,function,duration\n1714564800,a,0.015\n1714564801,b,0.2\n")

    inv, dur, mem = azure2019()
    sep = "\n#####\n"
    write("azure2019", "uniform", (bytes([0]) + (inv + sep + dur + sep + mem).encode()))
    write("azure2019", "poisson-skip", (bytes([3]) + (inv + sep + dur).encode()))
    write("azure2019", "equidistant", (bytes([4]) + (inv + sep + dur + sep + mem).encode()))

    write("azure2021", "head", bytes([0]) + head("tests/data/azure2021/invocations-head20.csv", 20))
    write("azure2021", "skip", bytes([1]) + head("workloads/azure-functions-2021-sample/invocations.csv", 20))

    write("cloudwatch_raw", "log", bytes([0]) + head("workloads/synthetic-lambda.log", 40))
    write("cloudwatch_raw", "skip", bytes([1]) + head("tests/data/bad-formats/cloudwatch-bad-duration.log", 20))
    write("cloudwatch_insights", "csv", bytes([0]) + read("tests/data/cloudwatch/insights.csv"))
    write("cloudwatch_insights", "skip", bytes([1]) + read("tests/data/bad-formats/insights-bad-timestamp.csv"))

    for t in ["canonical", "azure2021", "cloudwatch_raw", "cloudwatch_insights"]:
        for name in sorted(os.listdir(os.path.join(HERE, t)))[:2]:

            os.makedirs(os.path.join(HERE, "sniff"), exist_ok=True)
            shutil.copy(os.path.join(HERE, t, name), os.path.join(HERE, "sniff", "%s-%s" % (t, name)))
    write("sniff", "azure2019-header", bytes([0]) + inv.encode())

    for name in ["aws-lambda-x86", "azure-functions-flex", "gcp-cloud-run-request"]:
        write("toml_files", "offering-" + name, bytes([0]) + read("pricing/%s.toml" % name))
    for name in ["gcp-vm-us-central1", "azure-vm-eastus"]:
        write("toml_files", "servers-" + name, bytes([1]) + read("pricing/servers/%s.toml" % name))
    for name in ["api-backend", "image-upload", "nightly-batch", "queue-pipeline"]:
        write("toml_files", "workload-" + name, bytes([2]) + read("workloads/%s.toml" % name))

    write("init_file", "plain", b"120\n85.5\n300\n# a comment\n\n90\n")
    write("init_file", "header", b"init_ms,note\n100,cold\n250.5,cold\n")

    flags = [
        (0, ["90", "15m", "6h", "1.5s", "250ms", "10us", "1d"]),
        (1, ["250", "lognormal:84.9,135", "empirical:inits.txt"]),
        (2, ["08:00-20:00=50,else=5", "22:00-06:00=3"]),
        (3, ["0.7", "0.7@2..50"]),
        (4, ["m7g.large:slots=8,count=2", "t4g.small:slots=4,autoscale=1..5@0.6",
             "c7g.large:per_vcpu=4,queue=10,max_wait=2s,boot=30s,interval=30s,cooldown=2m,discount=20",
             "aws-lambda-managed-instances:instance=m7g.large,runtime=nodejs"]),
        (5, ["0..=100:10", "0,5,10", "0..=20:5,50,100"]),
        (6, ["300,600", "0.5"]),
        (7, ["p99<=300ms", "cold_start_ratio<=0.5%", "cost<=250", "p99.9<=1.5s"]),
        (8, ["fixed:10m", "none", "hybrid", "hybrid:4h:5:99", "lambda-observed", "platform"]),
        (9, ["1000/10s", "none"]),
        (10, ["cyclic", "none", "30m"]),
    ]
    for which, values in flags:
        for i, v in enumerate(values):
            write("flags", "%d-%d" % (which, i), bytes([which]) + v.encode())


if __name__ == "__main__":
    main()
