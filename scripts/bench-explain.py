#!/usr/bin/env python3
"""Times `mlcompat explain` on a large log against what a user would otherwise run on it: `grep -P` for every
known failure's patterns at once (one alternation), and `wc -l` (just reading it), side by side, and prints
the ratios. The bar: explain reads a 100 MB log in under a second.

Usage: scripts/bench-explain.py [--mb N] [--runs N]
Builds the release binary first. The log is an RTX 5090 bug report (its environment at the head) followed by
N MB of training-log lines and, on the last line, the error. Reports the median of the runs.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def median_seconds(argv, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        # Into a pipe, not /dev/null: GNU grep stops at the first match when its output is /dev/null.
        subprocess.run(argv, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    binary = os.path.join(ROOT, "target", "release", "mlcompat")
    with open(os.path.join(ROOT, "matrix", "failures.yaml")) as f:
        failures = yaml.safe_load(f)["failures"]
    patterns = [p for f in failures for p in f["patterns"]]
    report = os.path.join(ROOT, "tests/fixtures/bug-reports/berkeley-humanoid-lite-49-rtx5090-driver590-torch2.5.1-cu121.txt")
    line = "2026-12-04 12:00:00 INFO step 1234 loss=0.1234 lr=3e-4 tokens/s=12345.6 grad_norm=0.98\n"
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "train.log")
        with open(log, "w") as out, open(report) as head:
            out.write(head.read())
            out.write(line * (args.mb * 1024 * 1024 // len(line)))
            out.write("RuntimeError: CUDA error: no kernel image is available for execution on the device\n")
        size = os.path.getsize(log) / 1e6
        # Named groups repeat across patterns; grep needs none of them.
        alternation = "|".join(f"(?:{p})" for p in patterns)
        alternation = re.sub(r"\(\?P<\w+>", "(", alternation)
        check = subprocess.run(["grep", "-P", "-c", alternation, log], capture_output=True, text=True)
        if check.returncode > 1:
            print(f"grep -P refused the patterns: {check.stderr.strip()}", file=sys.stderr)
            return 2
        explain = median_seconds([binary, "explain", log, "--color", "never"], args.runs)
        grep = median_seconds(["grep", "-P", "-c", alternation, log], args.runs)
        wc = median_seconds(["wc", "-l", log], args.runs)
    print(f"log: {size:.0f} MB, {len(failures)} known failures ({len(patterns)} patterns), median of {args.runs} runs")
    print(f"wc -l                      {wc * 1000:8.1f} ms")
    print(f"grep -P (all patterns)     {grep * 1000:8.1f} ms")
    print(f"mlcompat explain           {explain * 1000:8.1f} ms   {grep / explain:6.2f}x grep's speed, {wc / explain:6.2f}x wc's")
    return 0 if explain < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
