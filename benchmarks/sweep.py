"""One pass for every step obligation against one pass per obligation, side by side in one run.

The same situations, the same obligations, five ways: one `check_steps` pass per obligation
(each rebuilds every symbolic state: how the suite checked them before), one shared pass in one
process with terms shared only within each (shape, step) pair (`sweep.tally(per_pair=True)`,
as in stop 19), the shared pass with a shape's steps sharing its pre-state and invariant but
one query per pair (`sweep.tally(query_per_pair=True)`, as in stop 25), the pass with one
query per shape (`sweep.tally`, now), and that split among worker processes
(`sweep.sweep_parallel`).
Ratios are to the first column, measured in the same run. Then the
3-volume shapes: the enumeration alone, and a sample of every N-th shape through the shared
pass, from which the whole set's time is extrapolated (the full run is `cascadecheck prove
--volumes 3`).

    python benchmarks/sweep.py [--bound 6] [--jobs 2] [--every 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.rules import Spec  # noqa: E402
from proofs.obligations import STEP_OBLIGATIONS  # noqa: E402
from proofs.shapes import family_situations, reachable  # noqa: E402
from proofs.sweep import check_steps, tally  # noqa: E402
from proofs.sweep_parallel import sweep_parallel  # noqa: E402

SHAPE_OBLIGATIONS = [o for o in STEP_OBLIGATIONS if o.over == "shapes"]


def _timed(fn):  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - began


def compare(label: str, situations: list, jobs: int) -> None:
    """The five ways over the same situations; every obligation must be proved each way."""
    spec = Spec()
    obs = SHAPE_OBLIGATIONS
    per, t_per = _timed(lambda: [check_steps(spec, ob, situations) for ob in obs])
    pair, t_pair = _timed(lambda: tally(spec, obs, situations, per_pair=True))
    shape, t_shape = _timed(lambda: tally(spec, obs, situations, query_per_pair=True))
    one, t_one = _timed(lambda: tally(spec, obs, situations))
    par, t_par = _timed(lambda: sweep_parallel(spec, obs, situations, jobs=jobs))
    assert all(o.verdict == "proved" for o in per), [o.name for o in per if o.verdict != "proved"]
    assert all(t.failure is None for t in one + pair + shape)
    assert all(o.verdict == "proved" for o in par), [o.name for o in par if o.verdict != "proved"]
    print(
        f"{label:<28} {len(situations):>7} {t_per:>9.1f} {t_pair:>9.1f} {t_shape:>9.1f}"
        f" {t_one:>9.1f} {t_par:>9.1f}   {t_pair / t_per:.2f} {t_shape / t_per:.2f}"
        f" {t_one / t_per:.2f} {t_par / t_per:.2f}   {t_one / t_shape:.2f}"
    )


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bound", type=int, default=6)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--every", type=int, default=20, help="3-volume sample: every N-th")
    args = parser.parse_args()
    spec = Spec()
    print(f"{len(SHAPE_OBLIGATIONS)} step obligations over the covered shapes, seconds")
    print(
        f"{'situations':<28} {'count':>7} {'per-ob':>9} {'per-pair':>9} {'pair-query':>9} "
        f"{'per-shape':>9} {'x' + str(args.jobs) + ' jobs':>9}   ratios to per-ob"
        "   per-shape/pair-query"
    )
    default = reachable(spec, 2) + family_situations(spec, args.bound)
    compare(f"n=2 + families K={args.bound}", default, args.jobs)
    three, t_enum = _timed(lambda: reachable(spec, 3))
    sample = three[:: args.every]
    compare(f"n=3, every {args.every}th shape", sample, args.jobs)
    _, t_sample = _timed(lambda: sweep_parallel(spec, SHAPE_OBLIGATIONS, sample, jobs=args.jobs))
    whole = t_enum + t_sample * len(three) / len(sample)
    print(
        f"\nn=3: {len(three)} shapes enumerated in {t_enum:.1f} s; the shared pass over all of"
        f" them, extrapolated from the sample: {whole / 60:.1f} min with {args.jobs} workers"
    )


if __name__ == "__main__":
    main()
