"""The proof suite side by side with another checkout of cascadecheck, and where its time goes.

Runs `run_suite(Settings(bound=K, volumes=N), jobs=2)` in this tree and in OLD (a directory holding
another commit, e.g. `git archive REV | tar -x -C OLD`), alternating, each in a fresh process,
and prints each round's wall times and their ratio (this machine is noisy: only ratios from
the same round compare). Each task is timed in its worker, so it also prints the task
seconds per kind — the step pass, the other obligations, the controls — and the longest tasks.

    python benchmarks/prove_against.py OLD [--bounds 8 6] [--volumes 2] [--rounds 3] [--longest 8]

`--volumes 3` compares the exhaustive three-volume run (`cascadecheck prove --volumes 3`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# run in the checkout under test: times each task in the worker that runs it (the wrappers keep
# the names the pool pickles them by), one stderr line per task, and prints the verdict as JSON
CHILD = r"""
import functools, json, sys, time
from proofs import suite
from proofs.coverage import Settings

def timed(fn):
    @functools.wraps(fn)
    def run(args):
        began = time.perf_counter()
        out = fn(args)
        name = f"sweep {args[0]} {args[2]}" if fn.__name__ == "sweep_task" else args[0]
        took = time.perf_counter() - began
        print("TASK", json.dumps([fn.__name__, name, took]), file=sys.stderr, flush=True)
        return out
    return run

for name in ("sweep_task", "obligation_task", "control_task"):
    fn = getattr(suite, name)  # wrapped where the pool pickles it from: where it is defined
    setattr(suite, name, timed(fn))
    setattr(sys.modules[fn.__module__], name, getattr(suite, name))
began = time.perf_counter()
rows = suite.run_suite(Settings(bound=int(sys.argv[1]), volumes=int(sys.argv[2])), jobs=2)
wall = time.perf_counter() - began
print(json.dumps({"wall": wall, "rows": len(rows), "passed": suite.passed(rows)}))
"""

KINDS = {"sweep_task": "step pass", "obligation_task": "obligations", "control_task": "controls"}


def measure(tree: Path, bound: int, volumes: int) -> dict:
    """One run of the suite in `tree`, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(bound), str(volumes)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    run = json.loads(out.stdout.strip().splitlines()[-1])
    lines = out.stderr.splitlines()
    run["tasks"] = [json.loads(x.removeprefix("TASK ")) for x in lines if x.startswith("TASK ")]
    return run


def by_kind(run: dict) -> dict[str, float]:
    """Task seconds per kind of task."""
    out = dict.fromkeys(KINDS.values(), 0.0)
    for fn, _, seconds in run["tasks"]:
        out[KINDS[fn]] += seconds
    return out


def main() -> None:
    """Print the rounds, the ratios and the breakdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="a directory holding the other checkout")
    parser.add_argument("--bounds", type=int, nargs="+", default=[8, 6])
    parser.add_argument("--volumes", type=int, default=2, help="n: every shape n volumes reach")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--longest", type=int, default=8)
    args = parser.parse_args()
    if not (args.old / "proofs" / "suite.py").is_file():
        parser.error(f"{args.old} holds no cascadecheck checkout (no proofs/suite.py)")
    for bound in args.bounds:
        print(f"K = {bound}, n = {args.volumes}: wall seconds, old then new, alternating")
        ratios, last = [], {}
        for i in range(args.rounds):
            old, new = measure(args.old, bound, args.volumes), measure(ROOT, bound, args.volumes)
            ratios.append(new["wall"] / old["wall"])
            print(
                f"  round {i + 1}: old {old['wall']:6.1f} ({old['rows']} rows, passed "
                f"{old['passed']})  new {new['wall']:6.1f} ({new['rows']} rows, passed "
                f"{new['passed']})  new/old {ratios[-1]:.2f}"
            )
            last = {"old": old, "new": new}
        print(f"  median new/old: {statistics.median(ratios):.2f}")
        print("  task seconds in the last round (two workers: about twice the wall time)")
        for side, run in last.items():
            kinds = "  ".join(f"{k} {v:6.1f}" for k, v in by_kind(run).items())
            print(f"    {side}: {kinds}  total {sum(t[2] for t in run['tasks']):6.1f}")
        longest = sorted(last["new"]["tasks"], key=lambda t: -t[2])[: args.longest]
        print("  longest tasks (new): " + ", ".join(f"{n} {s:.1f}" for _, n, s in longest))


if __name__ == "__main__":
    main()
