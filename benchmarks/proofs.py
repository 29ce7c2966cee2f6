"""Time of the proof suite against the cascade bound K and the search depth d, in one run.

For each K: the whole suite's wall time (2 worker processes, controls included) and each
step obligation's time alone (one process), with every figure also given as a ratio to the
smallest K measured in the same run, so machine noise hits all columns alike. Then the bounded
search from the empty system against its structural depth.

    python benchmarks/proofs.py [--bounds 2 4 6 8] [--depths 1 2 3] [--jobs 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.rules import Spec  # noqa: E402
from proofs.bmc import bmc  # noqa: E402
from proofs.obligations import STEP_OBLIGATIONS  # noqa: E402
from proofs.suite import Settings, passed, run_suite, situations  # noqa: E402
from proofs.sweep import check_steps  # noqa: E402


def main() -> None:
    """Print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bounds", type=int, nargs="+", default=[3, 4, 6, 8])
    parser.add_argument("--depths", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()

    print("whole suite (obligations + controls), wall time with", args.jobs, "workers")
    print(f"{'K':>3} {'rows':>5} {'passed':>7} {'seconds':>8} {'ratio':>6}")
    base = None
    for k in args.bounds:
        began = time.perf_counter()
        rows = run_suite(Settings(bound=k), jobs=args.jobs)
        took = time.perf_counter() - began
        base = base or took
        print(f"{k:>3} {len(rows):>5} {passed(rows)!s:>7} {took:>8.1f} {took / base:>6.2f}")

    print("\nper step obligation, one process: seconds (queries)")
    spec = Spec()
    header = " ".join(f"{'K=' + str(k):>15}" for k in args.bounds)
    print(f"{'obligation':<24} {header}")
    sits = {k: situations(spec, Settings(bound=k)) for k in args.bounds}
    for ob in STEP_OBLIGATIONS:
        cells = []
        for k in args.bounds:
            out = check_steps(spec, ob, sits[k])
            assert out.verdict == "proved", out
            cells.append(f"{out.seconds:>7.2f} ({out.queries:>5})")
        print(f"{ob.name:<24} {' '.join(cells)}")

    print("\nbounded search from empty, n=2 volumes, 1 data step around each structural step")
    print(f"{'depth':>5} {'paths':>6} {'seconds':>8} {'ms/path':>8}")
    for d in args.depths:
        result = bmc(spec, 2, d, 1)
        assert result.counterexample is None
        print(
            f"{d:>5} {result.paths:>6} {result.seconds:>8.1f} "
            f"{1000 * result.seconds / result.paths:>8.1f}"
        )


if __name__ == "__main__":
    main()
