"""The helpers of `model/logic.py` against z3py's own constructors, side by side in one run.

Building the proofs' terms is mostly calls like these (the 3-volume step pass makes hundreds
of thousands); `model/logic.py` calls Z3's C API directly for the common case of two terms.
Each row times the same operands both ways and prints the ratio (helper / z3py).

    python benchmarks/logic_calls.py [--calls 20000]
"""

from __future__ import annotations

import argparse
import sys
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import z3  # noqa: E402

from model.logic import Data, Grain, eq, implies, ite, not_, select, store  # noqa: E402


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    n = parser.parse_args().calls
    arr, bits = z3.Array("arr", Grain, Data), z3.Array("bits", Grain, z3.BoolSort())
    g, d, e = z3.Const("g", Grain), z3.Const("d", Data), z3.Const("e", Data)
    x, y = z3.Bool("x"), z3.Bool("y")
    rows = [
        ("eq(d, e)", lambda: eq(d, e), lambda: d == e),
        ("not_(x)", lambda: not_(x), lambda: z3.Not(x)),
        ("implies(x, y)", lambda: implies(x, y), lambda: z3.Implies(x, y)),
        ("store(arr, g, d)", lambda: store(arr, g, d), lambda: z3.Store(arr, g, d)),
        ("store(bits, g, True)", lambda: store(bits, g, True), lambda: z3.Store(bits, g, True)),
        ("select(arr, g)", lambda: select(arr, g), lambda: z3.Select(arr, g)),
        ("ite(x, d, e)", lambda: ite(x, d, e), lambda: z3.If(x, d, e)),
    ]
    print(f"{n} calls each, seconds")
    print(f"{'call':<22} {'helper':>8} {'z3py':>8}  helper/z3py")
    for label, ours, theirs in rows:
        assert ours().eq(theirs()), label  # the same term either way
        t_ours = timeit.timeit(ours, number=n)
        t_theirs = timeit.timeit(theirs, number=n)
        print(f"{label:<22} {t_ours:>8.3f} {t_theirs:>8.3f}  {t_ours / t_theirs:.2f}")


if __name__ == "__main__":
    main()
