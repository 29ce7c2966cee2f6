"""Kill rate, time to verdict and shrunk trace length for every seeded mutant, with the default
campaign (scenario corpus, then generation), seed by seed.

Each mutant — inside the engine (`reference/mutants.py`, `reference/mutants_lifecycle.py`) or a
black box around it (`reference/wrappers.py`) — is hunted with `--seeds` seeds; a kill reports
the time to the verdict (corpus, generation and shrinking), the length of the saved trace, and
whether that trace passes on the reference engine and fails on the mutant. The reference engine
runs the same campaign alongside (it must conform; its time is the cost of a clean campaign).
`--observe every-step` reads every volume and asks after every map after every operation, to
compare with the default (observation at chosen points and at the end); `--no-scenarios` leaves
the corpus out to measure generation alone.

    python benchmarks/mutants.py [--seeds 5] [--examples 200] [--jobs 2]
                                 [--observe default|every-step] [--no-scenarios]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.campaign import Plan, run_campaign  # noqa: E402
from harness.drivers import open_driver  # noqa: E402
from harness.trace import load_trace, replay  # noqa: E402
from reference.mutants import MUTANTS  # noqa: E402
from reference.wrappers import WRAPPERS  # noqa: E402

Job = tuple[str, int, int, bool, bool]
Row = tuple[str, int, str, float, int, bool, bool, str]


def spelling(cls: type) -> str:
    return f"python:{cls.__module__}:{cls.__name__}"


def hunt(job: Job) -> Row:
    """One campaign: (name, seed, status, seconds, trace length, replays clean on the
    reference, fails on the mutant, found by)."""
    driver, seed, examples, every_step, scenarios = job
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "cx.json"
        plan = Plan(examples=examples, seed=seed, save_to=out, observe_every_step=every_step)
        if not scenarios:
            plan.corpus = []
        began = time.perf_counter()
        v = run_campaign(lambda: open_driver(driver), plan)
        took = time.perf_counter() - began
        clean = fails = False
        if v.status == "nonconformance" and out.exists():
            trace = load_trace(out)
            clean = not any(s.problem for s in replay(trace, open_driver("reference")))
            fails = any(s.problem for s in replay(trace, open_driver(driver)))
        length = len(v.trace["ops"]) if v.trace else 0
        name = driver.rsplit(":", 1)[-1]
        return name, seed, v.status, took, length, clean, fails, v.found_by.split(":")[0]


def main() -> None:
    """Print one row per mutant, then the summary against the goals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--observe", choices=["default", "every-step"], default="default")
    parser.add_argument("--no-scenarios", action="store_true")
    parser.add_argument("--only", help="only mutants whose name contains this")
    args = parser.parse_args()
    drivers = [spelling(c) for c in (*MUTANTS.values(), *WRAPPERS)]
    drivers = sorted(d for d in drivers if not args.only or args.only in d)
    every = args.observe == "every-step"
    jobs = [
        (d, s, args.examples, every, not args.no_scenarios)
        for d in ["reference", *drivers]
        for s in range(args.seeds)
    ]
    with get_context("fork").Pool(args.jobs) as pool:
        results = pool.map(hunt, jobs)
    print(
        f"default campaign: {args.examples} sequences, seeds 0..{args.seeds - 1}, observation "
        f"{args.observe}, scenarios {'off' if args.no_scenarios else 'on'}"
    )
    header = (
        f"{'implementation':<30} {'killed':>7} {'median s':>9} {'max s':>7} {'median ops':>10}"
        f" {'max ops':>7}  replays  found by"
    )
    print(header)
    kill_times, kill_ops, all_killed = [], [], True
    for name in ["reference", *(d.rsplit(":", 1)[-1] for d in drivers)]:
        rows = [r for r in results if r[0] == name]
        found = [r for r in rows if r[2] == "nonconformance"]
        times = [r[3] for r in (found or rows)]
        ops = [r[4] for r in found] or [0]
        replays = "-" if not found else "yes" if all(r[5] and r[6] for r in found) else "NO"
        by = ",".join(sorted({r[7] for r in found})) or "-"
        if name == "reference":
            verdicts = ",".join(sorted({r[2] for r in rows}))
            print(f"{name:<30} {verdicts:>7} {statistics.median(times):>9.1f} {max(times):>7.1f}")
            continue
        all_killed &= len(found) == len(rows)
        kill_times += [r[3] for r in found]
        kill_ops += [r[4] for r in found]
        print(
            f"{name:<30} {len(found):>3}/{len(rows):<3} {statistics.median(times):>9.1f} "
            f"{max(times):>7.1f} {statistics.median(ops):>10.0f} {max(ops):>7} "
            f"{replays:>8}  {by}"
        )
    kills = len(kill_times)
    total = len(drivers) * args.seeds
    print(
        f"killed {kills}/{total}; every mutant in every seed: {'yes' if all_killed else 'no'}; "
        f"median time to verdict {statistics.median(kill_times or [0]):.1f}s "
        f"(goal <= 10); median shrunk trace {statistics.median(kill_ops or [0]):.0f} operations "
        f"(goal <= 10), longest {max(kill_ops or [0])}"
    )


if __name__ == "__main__":
    main()
