"""The test suite on a loaded machine: `--busy` CPU-bound processes (default 6: load 6-8 on a
2-core machine, as issue 11 measured) spin for the whole time while the README's test command
runs `--runs` times in a row; prints each run's verdict and wall time.

    python benchmarks/loaded_suite.py [--busy 6] [--runs 3] [-- PYTEST_ARGS]

Run it from the repository root in the project's virtual environment (with the real engines'
Debian packages installed, as `.ci/run` does, and `CASCADECHECK_REQUIRE_TOOLS=1` to make a
missing one a failure).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import subprocess
import sys
import time


def spin() -> None:
    """One CPU-bound process."""
    x = 0
    while True:
        x = (x * 31 + 7) % 1_000_003


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", type=int, default=6)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("pytest_args", nargs="*", default=["-q"])
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the spinners too
    busy = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.busy)]
    for p in busy:
        p.start()
    passed = 0
    try:
        for run in range(1, args.runs + 1):
            began = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "pytest", *args.pytest_args], capture_output=True, text=True
            )
            seconds = time.perf_counter() - began
            last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
            load = os.getloadavg()[0]
            print(
                f"run {run}: exit {done.returncode} in {seconds / 60:.1f} min (load {load:.1f})"
                f": {last}",
                flush=True,
            )
            if done.returncode != 0:
                print(done.stdout[-4000:], flush=True)
            passed += done.returncode == 0
    finally:
        for p in busy:
            p.terminate()
    print(f"{passed}/{args.runs} runs passed with {args.busy} busy processes")
    return 0 if passed == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
