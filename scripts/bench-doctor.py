#!/usr/bin/env python3
"""Times `mlcompat doctor` (quick, no --deep) against `python -m pip list --format=json`, `python -m pip
check` (what doctor now also answers: declared requirements that are not met) and, when it is installed,
`env-doctor check` (the closest tool) on the same machine, side by side, and prints the ratios; also the
matrix load alone (`mlcompat list software`) against the process floor (`mlcompat --version`). The bar:
doctor at least 10x faster than pip list.

Usage: scripts/bench-doctor.py [--python PATH] [--runs N] [--env-doctor PATH]
Builds the release binary first. Reports the median of N runs of each, with a warm cache (the normal
case: the interpreter was asked once before) and a cold one (--no-cache: Python is started every time).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def median_seconds(argv, runs, env=None):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", default=shutil.which("python3"))
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--env-doctor", default=shutil.which("env-doctor"))
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    binary = os.path.join(ROOT, "target", "release", "mlcompat")
    packages = json.loads(subprocess.run([args.python, "-m", "pip", "list", "--format=json"], capture_output=True, text=True, check=True).stdout)
    doctor = [binary, "doctor", "--python", args.python, "--color", "never"]
    subprocess.run(doctor, stdout=subprocess.DEVNULL, check=False)  # fill the cache
    warm = median_seconds(doctor, args.runs)
    cold = median_seconds(doctor + ["--no-cache"], args.runs)
    pip = median_seconds([args.python, "-m", "pip", "list", "--format=json", "--disable-pip-version-check"], args.runs)
    check = median_seconds([args.python, "-m", "pip", "check", "--disable-pip-version-check"], args.runs)
    print(f"interpreter: {args.python} ({len(packages)} distributions), median of {args.runs} runs")
    print(f"pip list --format=json      {pip * 1000:8.1f} ms")
    print(f"pip check                   {check * 1000:8.1f} ms")
    print(f"mlcompat doctor (cached)    {warm * 1000:8.1f} ms   {pip / warm:6.1f}x faster than pip list, {check / warm:6.1f}x than pip check")
    print(f"mlcompat doctor (--no-cache){cold * 1000:8.1f} ms   {pip / cold:6.1f}x faster than pip list, {check / cold:6.1f}x than pip check")
    floor = median_seconds([binary, "--version"], args.runs)
    load = median_seconds([binary, "list", "software"], args.runs)
    print(f"mlcompat --version          {floor * 1000:8.1f} ms   (the process floor)")
    print(f"mlcompat list software      {load * 1000:8.1f} ms   (the embedded matrix loaded and validated)")
    if args.env_doctor:
        # env-doctor looks for newer data online first; it answers offline from its local database.
        other = median_seconds([args.env_doctor, "check"], max(3, args.runs // 3))
        print(f"env-doctor check            {other * 1000:8.1f} ms   doctor (cached) takes {warm / other:.3f} of it")
    else:
        print("env-doctor: not installed (pip install env-doctor, or --env-doctor PATH), not compared")
    return 0 if pip / warm >= 10 else 1


if __name__ == "__main__":
    sys.exit(main())
