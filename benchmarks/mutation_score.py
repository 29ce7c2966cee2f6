"""The specification's mutation score, from the results `mutmut run` leaves in `mutants/`.

    mutmut run --max-children 2 && python benchmarks/mutation_score.py [--survivors]

Reads each `mutants/**/*.py.meta` (the exit code of the killing tests per mutant) and prints
how many mutants were killed — a failing test, a segfault (a mutant that hands Z3's C API a
null pointer crashes the test process: mutmut 3.8.1's `results` lists those as survived, its
own table counts them as segfaults) or a timeout — and how many survived, per module. A
mutant no killing test reaches (mutmut's "no tests", exit code 5 or 33) is not killed: it is
counted apart, listed with `--survivors`, and so is any exit code this script does not know.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

KILLED = {
    1: "failed",
    3: "failed",
    -11: "segfault",
    -9: "segfault",
    36: "timeout",
    -24: "timeout",
    24: "timeout",
    152: "timeout",
    255: "timeout",
}


NO_TESTS = {5, 33}  # mutmut 3.8.1: no killing test covers the mutated function


def outcome(code: int | None) -> str:
    """What an exit code of the killing tests means for the mutant."""
    if code is None:
        return "not checked"
    if code == 0:
        return "survived"
    if code in NO_TESTS:
        return "no tests"
    return KILLED.get(code, f"exit {code}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="mutants")
    parser.add_argument("--survivors", action="store_true", help="list the surviving mutants")
    args = parser.parse_args()
    metas = sorted(Path(args.dir).rglob("*.py.meta"))
    if not metas:
        print(f"no mutmut results under {args.dir}/ (run `mutmut run` first)")
        return 2
    total: Counter[str] = Counter()
    survivors: list[str] = []
    for meta in metas:
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        per = Counter(outcome(c) for c in codes.values())
        total.update(per)
        survivors += sorted(
            k for k, c in codes.items() if c is not None and outcome(c) not in KILLED.values()
        )
        module = meta.relative_to(args.dir).as_posix().removesuffix(".meta")
        print(f"{module:32} " + ", ".join(f"{v} {k}" for k, v in sorted(per.items())))
    killed = sum(v for k, v in total.items() if k in KILLED.values())
    checked = sum(v for k, v in total.items() if k != "not checked")
    print(
        f"\n{sum(total.values())} mutants: "
        + ", ".join(f"{v} {k}" for k, v in sorted(total.items()))
    )
    if checked:
        print(f"score: {killed}/{checked} killed ({100 * killed / checked:.1f} %)")
    if args.survivors:
        print("\n".join(["", "survivors (and mutants no killing test reaches):", *survivors]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
