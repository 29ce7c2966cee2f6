"""Self-audit of `prove`: plausible wrong rules that are *not* among its controls, each patched
into the specification in a fresh process, and which obligations then fail.

The controls (`proofs/controls.py`) are wrong rules the obligations were built against; these
(`benchmarks/wrong_rules.py` and `wrong_rules_b.py` to `wrong_rules_e.py`) were written
afterwards, blind to them, the way an outside reviewer writes wrong rules into a copy of
`model/` (issue 13's audit). A wrong rule that every obligation still proves is a survivor: an
obligation or a shape family is missing, or the rule is equivalent (checked on the covered
situations by `benchmarks/equivalence.py`, or argued, in `docs/proofs.md`). Figures and the
survivors' verdicts are in `docs/proofs.md`.

    python benchmarks/self_audit.py [--batch a|b|c|d|e|f|g|h] [--no-equivalence] [NAME ...]

Every wrong rule, or some; each survivor is then compared with the right rule on every covered
situation (`benchmarks/equivalence.py`), unless `--no-equivalence`.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from wrong_batches import BATCH, WRONG

from proofs import suite

HERE = Path(__file__).resolve().parent


def one(name: str) -> None:
    """Patch one wrong rule in, run every obligation (no controls) at the default settings."""
    patch = WRONG[name][1]
    patch()
    began = time.perf_counter()
    rows = suite.run_suite(suite.Settings(), jobs=2, controls=False)
    failed = [r.name for r in rows if not r.ok]
    verdict = "caught" if failed else "SURVIVED"
    seconds = time.perf_counter() - began
    print(f"{name:<30} {verdict:<9} {seconds:5.1f} s  {', '.join(failed) or WRONG[name][0]}")


def main() -> None:
    """Each wrong rule in a process of its own (a patch must not leak into the next)."""
    args = sys.argv[1:]
    if args[:1] == ["--one"]:
        one(args[1])
        return
    equivalence = "--no-equivalence" not in args
    args = [a for a in args if a != "--no-equivalence"]
    batch = None
    if args[:1] == ["--batch"]:
        batch, args = args[1], args[2:]
    names = args or [n for n in WRONG if batch is None or BATCH[n] == batch]
    unknown = [n for n in names if n not in WRONG]
    if unknown or batch not in (None, *BATCH.values()):
        sys.exit(
            f"unknown wrong rule(s) or batch: {', '.join(unknown) or batch}; known: "
            f"{', '.join(WRONG)}"
        )
    print(f"{len(names)} wrong rules, every obligation of `cascadecheck prove` (K=6, n=2)")
    survivors = []
    for name in names:
        done = subprocess.run(
            [sys.executable, __file__, "--one", name], check=False, capture_output=True, text=True
        )
        print(done.stdout + done.stderr, end="", flush=True)
        if "SURVIVED" in done.stdout or done.returncode:
            survivors.append(name)
    if survivors and equivalence:  # does a survivor change anything on the covered situations?
        print(f"{len(survivors)} survived; each compared with the right rule (equivalence.py):")
        for name in survivors:
            subprocess.run([sys.executable, str(HERE / "equivalence.py"), name], check=False)


if __name__ == "__main__":
    main()
