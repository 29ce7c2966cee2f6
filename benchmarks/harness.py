"""Harness throughput: steps per second with and without the concrete step check, one run.

The same campaign (same seed, so the same sequences) runs against the reference engine twice,
interleaved round by round so machine noise hits both alike: once with the specification's
rules evaluated on every write, start and copy step (`harness.stepcheck`), once without.
Goal: the checked rate at least half the unchecked rate.

    python benchmarks/harness.py [--examples 150] [--steps 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.campaign import Plan, run_campaign  # noqa: E402
from harness.drivers import open_driver  # noqa: E402


def rate(step_check: bool, examples: int, steps: int, seed: int) -> tuple[float, int]:
    """Steps per second of one campaign, and its step count."""
    began = time.perf_counter()
    plan = Plan(examples=examples, steps=steps, seed=seed, step_check=step_check, corpus=[])
    v = run_campaign(lambda: open_driver("reference"), plan)
    assert v.status in ("conforms", "inconclusive"), v.problem
    return v.steps / (time.perf_counter() - began), v.steps


def main() -> None:
    """Print both rates and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=150)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    checked, unchecked = [], []
    for seed in range(args.rounds):
        on, n_on = rate(True, args.examples, args.steps, seed)
        off, n_off = rate(False, args.examples, args.steps, seed)
        checked.append(on)
        unchecked.append(off)
        print(
            f"round {seed}: {n_on} steps checked at {on:.0f}/s, "
            f"{n_off} unchecked at {off:.0f}/s, ratio {on / off:.2f}"
        )
    on, off = statistics.median(checked), statistics.median(unchecked)
    print(
        f"median: checked {on:.0f} steps/s, unchecked {off:.0f} steps/s, "
        f"checked/unchecked = {on / off:.2f} (goal >= 0.50)"
    )


if __name__ == "__main__":
    main()
