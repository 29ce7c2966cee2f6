"""The parametric model's link to `Spec` (`proofs/graph_refinement.py`) at every shape the
step obligations cover, against the subset `cascadecheck prove` links, side by side in one
run: how many (shape, step) pairs each covers, their time, and the cost per pair as a ratio
to the step pass over the same shapes (`proofs/sweep.py`, every step obligation at once).

    python benchmarks/graph_link.py [--bound 6] [--samples 200] [--groups]

With `--groups`, a third row links the group start of every group situation `prove`'s
step obligations cover (about 900 situations, one group start each: several minutes).

Exit 1 if the link fails anywhere (it names the step and the shape).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.rules import Spec  # noqa: E402
from proofs.coverage import Settings, groups, situations  # noqa: E402
from proofs.graph_refinement import (  # noqa: E402
    LINKED,
    UNGROUPED,
    check_graph_refinement,
    link_situations,
)
from proofs.obligations import STEP_OBLIGATIONS  # noqa: E402
from proofs.sweep import tally  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bound", type=int, default=6)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--groups", action="store_true")
    args = parser.parse_args()
    spec = Spec()
    every = list(situations(spec, Settings(bound=args.bound, sample=args.samples)))
    rows = []
    subset = link_situations(spec) + link_situations(spec, closed=True)
    grouped = list(groups(spec, Settings(bound=args.bound))) if args.groups else []
    for label, chosen, kinds in (
        ("prove's subset", subset, LINKED),
        ("every covered shape", every, UNGROUPED),
        *((("every group situation", grouped, ("group",)),) if grouped else ()),
    ):
        began = time.perf_counter()
        out = check_graph_refinement(spec, chosen, kinds=kinds)
        seconds = time.perf_counter() - began
        rows.append((label, len(chosen), out.queries, seconds))
        each = 1000 * seconds / max(out.queries, 1)
        print(
            f"{label:>20}: {len(chosen):5d} shapes, {out.queries:6d} steps linked, "
            f"{seconds:7.1f} s ({each:.1f} ms a step): {out.verdict}"
        )
        if out.verdict != "proved":
            print(out.failure.detail if out.failure else "")
            return 1
    began = time.perf_counter()
    tally(spec, STEP_OBLIGATIONS, every)
    sweep = time.perf_counter() - began
    print(
        f"{'step pass':>20}: {len(every):5d} shapes, every step obligation, {sweep:7.1f} s; "
        f"the link at every shape takes {rows[1][3] / sweep:.2f} of its time, prove's subset "
        f"{rows[0][3] / sweep:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
