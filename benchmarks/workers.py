"""Throughput and time to first failure with 1 and with N workers, measured side by side.

For each driver the same campaign (fixed sequences, no scenario corpus, no gap rounds, a fresh
example database each time) runs once on one process and once on `--workers` processes,
alternating, `--repeat` times; the figure is steps per second of wall time (every worker's
steps over the campaign's wall time, start-up of the processes and engines included) and the
ratio N workers : 1 worker. Then each seeded mutant named is hunted with 1 and with N workers
(the default campaign, fresh database) and the wall time to the verdict is compared.

    python benchmarks/workers.py [--workers 2] [--examples 120] [--repeat 2]
        [--drivers reference,nbdkit-cow] [--mutants NAME,NAME] [--seed 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.campaign import Plan, run_campaign  # noqa: E402
from harness.campaign.parallel import run_workers  # noqa: E402
from harness.drivers import open_driver  # noqa: E402

MUTANTS = (
    "python:reference.mutants_lifecycle:PreparedTargetReadable",
    "python:reference.mutants:WrongInsertionPoint",
    "python:reference.wrappers:BigVolumesRefused",
    "python:reference.mutants_lifecycle:LazyFill",
)


def campaign(driver: str, workers: int, plan: Plan) -> tuple[float, int, str]:
    """(wall seconds, steps, status) of one campaign."""
    began = time.perf_counter()
    if workers == 1:
        v = run_campaign(lambda: open_driver(driver), plan)
    else:
        v = run_workers(driver, plan, workers)
    return time.perf_counter() - began, v.steps, v.status


def throughput(driver: str, n: int, examples: int, repeat: int, seed: int) -> None:
    rates: dict[int, list[float]] = {1: [], n: []}
    for r in range(repeat):
        for workers in (1, n):
            with tempfile.TemporaryDirectory() as folder:
                plan = Plan(
                    examples=examples,
                    seed=seed + r,
                    corpus=[],
                    fill_gaps=False,
                    database=Path(folder) / "db",
                )
                seconds, steps, status = campaign(driver, workers, plan)
            rates[workers].append(steps / seconds)
            print(
                f"  {driver:14} {workers} worker(s) run {r + 1}: {steps} steps in "
                f"{seconds:.1f} s = {steps / seconds:.0f} steps/s ({status})",
                flush=True,
            )
    one, many = statistics.median(rates[1]), statistics.median(rates[n])
    print(
        f"{driver:14} 1 worker {one:.0f} steps/s, {n} workers {many:.0f} steps/s: "
        f"{many / one:.2f}x",
        flush=True,
    )


def first_failure(driver: str, n: int, seed: int) -> None:
    times = {}
    for workers in (1, n):
        with tempfile.TemporaryDirectory() as folder:
            plan = Plan(seed=seed, database=Path(folder) / "db", save_to=Path(folder) / "cx.json")
            seconds, _steps, status = campaign(driver, workers, plan)
        times[workers] = (seconds, status)
    (t1, s1), (tn, sn) = times[1], times[n]
    print(
        f"{driver.rsplit(':', 1)[-1]:28} 1 worker {t1:6.1f} s ({s1}), {n} workers "
        f"{tn:6.1f} s ({sn})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--examples", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--drivers", default="reference,nbdkit-cow")
    parser.add_argument("--mutants", default=",".join(MUTANTS))
    args = parser.parse_args()
    print(f"throughput, {args.examples} sequences per campaign, median of {args.repeat}:")
    for driver in filter(None, args.drivers.split(",")):
        throughput(driver, args.workers, args.examples, args.repeat, args.seed)
    print("time to the verdict (default campaign, shrinking included):")
    for driver in filter(None, args.mutants.split(",")):
        first_failure(driver, args.workers, args.seed)


if __name__ == "__main__":
    main()
