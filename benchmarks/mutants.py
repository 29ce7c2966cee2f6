"""Kill rate, time to first failure and shrunk trace length for every seeded mutant.

Each mutant of `reference/mutants.py` is hunted with several seeds under the same budget
(sequences x steps); a run that finds the mutant reports the time until Hypothesis finished
(generation and shrinking) and the length of the saved trace. The reference engine runs the
same budget alongside as the baseline (it must conform; its time is the cost of a clean run).

    python benchmarks/mutants.py [--seeds 5] [--examples 1500] [--steps 50] [--jobs 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.campaign import run_campaign  # noqa: E402
from harness.drivers import open_driver  # noqa: E402
from reference.mutants import MUTANTS  # noqa: E402


def hunt(job: tuple[str, int, int, int]) -> tuple[str, int, bool, float, int, str]:
    """One campaign: (name, seed, found, seconds, trace length, how it was found)."""
    name, seed, examples, steps = job
    driver = "reference" if name == "reference" else f"python:reference.mutants:{name}"
    began = time.perf_counter()
    v = run_campaign(lambda: open_driver(driver), examples=examples, steps=steps, seed_value=seed)
    took = time.perf_counter() - began
    length = len(v.trace["ops"]) if v.trace else 0
    return name, seed, v.status == "nonconformance", took, length, v.kind


def main() -> None:
    """Print one row per mutant."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--examples", type=int, default=1500)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    names = ["reference", *sorted(MUTANTS)]
    jobs = [(n, s, args.examples, args.steps) for n in names for s in range(args.seeds)]
    with get_context("fork").Pool(args.jobs) as pool:
        results = pool.map(hunt, jobs)
    print(f"budget: {args.examples} sequences x {args.steps} steps, seeds 0..{args.seeds - 1}")
    print(
        f"{'implementation':<28} {'killed':>7} {'median s':>9} {'max s':>7} "
        f"{'median ops':>10}  found by"
    )
    base = statistics.median(r[3] for r in results if r[0] == "reference")
    for name in names:
        rows = [r for r in results if r[0] == name]
        found = [r for r in rows if r[2]]
        times = [r[3] for r in found] or [r[3] for r in rows]
        ops = [r[4] for r in found] or [0]
        kinds = ",".join(sorted({r[5] for r in found})) or "-"
        print(
            f"{name:<28} {len(found):>3}/{len(rows):<3} {statistics.median(times):>9.1f} "
            f"{max(times):>7.1f} {statistics.median(ops):>10.0f}  {kinds}"
        )
    killed = sum(1 for r in results if r[2] and r[0] != "reference")
    total = sum(1 for r in results if r[0] != "reference")
    print(
        f"kill rate {killed}/{total} = {killed / total:.0%}; a clean reference run of the "
        f"same budget takes {base:.1f}s"
    )


if __name__ == "__main__":
    main()
