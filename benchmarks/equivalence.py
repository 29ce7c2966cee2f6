"""Is a wrong rule the self-audit could not catch equivalent to the right one? Checked, not
argued: at every situation the step obligations cover (`cascadecheck prove`'s default: two
volumes, the families to K, the samples of three to five volumes, the group starts), each step
enabled under either rule is taken under both from one symbolic state, and Z3 is asked whether
anything either computes differs:

- which steps are enabled, whether a start is a restore, a write's bound;
- the step's precondition, at two grains;
- the state after it: the shape, and at a fresh grain every volume's grains, split and
  difference bits and abstract image;
- the copies it makes: for each (kind, target), whether a copy moves data, and from which
  volume and kind of position.

A difference is looked for twice: in every state, and then, if one is found, in the states
where the invariant holds at the grains involved (a difference only in states no run reaches
is no difference in use). Equal in either is a proof of equivalence *on the covered
situations*, not beyond them.

    python benchmarks/equivalence.py NAME [NAME ...]   # names from benchmarks/self_audit.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import z3
from wrong_batches import WRONG

from model.invariant import invariant
from model.logic import Data, Grain, Patch
from model.rules import Spec
from model.state import State, symbolic_state
from proofs import coverage
from proofs.shapes import Situation
from proofs.steps import Step, apply, enabled, precondition, shape_before

_SKIP = {"__dict__", "__weakref__", "__doc__", "__module__", "__qualname__"}


def _snapshot() -> list[tuple[Any, dict[str, Any]]]:
    """Every attribute of the specification's and the proofs' modules and classes, so a patch
    can be taken out again (a patch replaces methods and functions in place)."""
    saved: list[tuple[Any, dict[str, Any]]] = []
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in ("model", "proofs") and module is not None:
            saved.append((module, dict(vars(module))))
            for obj in vars(module).values():
                if isinstance(obj, type) and obj.__module__ == name:
                    saved.append((obj, dict(vars(obj))))
    return saved


def _restore(saved: list[tuple[Any, dict[str, Any]]]) -> None:
    """Put every attribute back as `_snapshot` found it, and drop what a patch added."""
    for obj, attrs in saved:
        for key in set(vars(obj)) - set(attrs) - _SKIP:
            delattr(obj, key)
        for key, value in attrs.items():
            if key not in _SKIP and vars(obj).get(key) is not value:
                setattr(obj, key, value)


class Patched:
    """The wrong rule switched on for the length of a `with` block."""

    def __init__(self, patch: Callable[[], None]) -> None:
        self.patch = patch
        self.saved: list[tuple[Any, dict[str, Any]]] = []

    def __enter__(self) -> None:
        self.saved = _snapshot()
        self.patch()

    def __exit__(self, *exc: object) -> None:
        _restore(self.saved)


def _situations(spec: Spec) -> Iterator[Situation]:
    """What `prove` covers at its defaults, group starts included."""
    settings = coverage.Settings()
    yield from coverage.situations(spec, settings)
    yield from coverage.groups(spec, settings)


def _copies(st: State) -> dict[tuple[str, str], tuple[Any, Any, Any]]:
    """For each (kind, target): whether a copy moved data, and the last such copy's holder and
    kind of position (as terms)."""
    out: dict[tuple[str, str], tuple[Any, Any, Any]] = {}
    for c in st.copies:
        moved, holder, kind = out.get((c.kind, c.target), (z3.BoolVal(False), -1, -1))
        cond = _term(c.condition)
        out[(c.kind, c.target)] = (
            z3.Or(moved, cond),
            z3.If(cond, _int(c.holder), _int(holder)),
            z3.If(cond, _int(c.data_from), _int(kind)),
        )
    return out


def _term(value: Any) -> Any:
    return value if isinstance(value, z3.ExprRef) else z3.BoolVal(bool(value))


def _int(value: Any) -> Any:
    return value if isinstance(value, z3.ExprRef) else z3.IntVal(int(value))


def _differences(right: State, wrong: State, h: Any) -> list[Any]:
    """Terms each true where the two states after a step differ (at grain h)."""
    if right.shape != wrong.shape or right.split.keys() != wrong.split.keys():
        return [z3.BoolVal(True)]
    if right.diff.keys() != wrong.diff.keys() or right.ref.keys() != wrong.ref.keys():
        return [z3.BoolVal(True)]
    out = []
    for part in ("phys", "split", "diff", "ref"):
        a, b = getattr(right, part), getattr(wrong, part)
        out += [z3.Select(a[v], h) != z3.Select(b[v], h) for v in a]
    ca, cb = _copies(right), _copies(wrong)
    for key in ca.keys() | cb.keys():
        ma, ha, ka = ca.get(key, (z3.BoolVal(False), -1, -1))
        mb, hb, kb = cb.get(key, (z3.BoolVal(False), -1, -1))
        out += [ma != mb, z3.And(ma, z3.Or(_int(ha) != _int(hb), _int(ka) != _int(kb)))]
    return out


def _differs(claims: list[Any], assume: list[Any]) -> z3.CheckSatResult:
    """Can one of the claims of difference hold (under the assumptions)?"""
    solver = z3.Solver()
    solver.set("timeout", 60_000)
    solver.add(*assume, z3.Or(*claims) if claims else z3.BoolVal(False))
    return solver.check()


# the grains a step is checked at (g, x) and the one the states are compared at (h)
G, X, H = z3.Const("g", Grain), z3.Const("x", Grain), z3.Const("h", Grain)
Run = tuple[State, Any, list[Any]]


def _run(spec: Spec, sit: Situation, step: Step) -> Run:
    """The step from a fresh symbolic state (nothing read of it yet): the state after it, its
    precondition, and a write's bound or whether a start is a restore."""
    shape = shape_before(sit.shape, step)
    pre = symbolic_state(shape, "", sit.lost)
    payload = z3.Const("data", Data) if step.whole else z3.Const("patch", Patch)
    post = apply(spec, pre, step, X if step.data else None, payload)
    extra = []
    if step.kind == "write":
        extra.append(spec.write_bound(shape, step.target))
    if step.kind == "start":
        extra.append(spec.needs_restore(sit.shape, step.target))
    return post, precondition(spec, pre, step, [G, X]), extra


def _same_terms(a: Run, b: Run) -> bool:
    """Both rules built the very same terms (Z3 shares equal terms): no solver needed."""
    (ra, pa, ea), (rb, pb, eb) = a, b
    if ea != eb or ra.shape != rb.shape or not _term(pa).eq(_term(pb)):
        return False
    for part in ("phys", "split", "diff", "ref"):
        x, y = getattr(ra, part), getattr(rb, part)
        if x.keys() != y.keys() or any(not x[v].eq(y[v]) for v in x):
            return False
    return [(c.kind, c.target) for c in ra.copies] == [
        (c.kind, c.target) for c in rb.copies
    ] and all(
        _term(c.condition).eq(_term(d.condition))
        and _int(c.holder).eq(_int(d.holder))
        and _int(c.data_from).eq(_int(d.data_from))
        for c, d in zip(ra.copies, rb.copies, strict=True)
    )


def _compare(spec: Spec, sit: Situation, step: Step, right: Run, wrong: Run) -> str | None:
    """Where the rules part for one step whose terms are not the same (None: they do not)."""
    (post_r, pre_r, extra_r), (post_w, pre_w, extra_w) = right, wrong
    if extra_r != extra_w:
        return f"bound or restore detection: {extra_r} against {extra_w}"
    claims = [_term(pre_r) != _term(pre_w)]
    claims += [z3.And(_term(pre_r), d) for d in _differences(post_r, post_w, H)]
    if _differs(claims, []) == z3.unsat:
        return None
    base = symbolic_state(shape_before(sit.shape, step), "", sit.lost)
    assume = [invariant(spec, base, y) for y in (G, X, H)]
    verdict = _differs(claims, assume)
    return None if verdict == z3.unsat else f"the states after it differ ({verdict})"


def check(name: str, situations: Iterable[Situation] | None = None) -> int:
    """Compare one wrong rule with the right one on every covered situation (or on those
    given); 0 if they are equal there."""
    what, patch = WRONG[name]
    spec, patched = Spec(), Patched(patch)
    began, pairs, asked, shapes = time.perf_counter(), 0, 0, 0
    for sit in _situations(spec) if situations is None else situations:
        shapes += 1
        steps = list(dict.fromkeys(enabled(spec, sit.shape, sit.lost)))
        right = [_run(spec, sit, step) for step in steps]
        with patched:
            also = list(dict.fromkeys(enabled(spec, sit.shape, sit.lost)))
            wrong = [_run(spec, sit, step) for step in steps] if also == steps else []
        if also != steps:
            odd = sorted(map(str, set(steps) ^ set(also)))[:3]
            print(f"{name}: DIFFERS at {sit.family} after {sit.path}: steps enabled {odd}")
            return 1
        for step, r, w in zip(steps, right, wrong, strict=True):
            pairs += 1
            same = _same_terms(r, w)
            asked += not same
            where = None if same else _compare(spec, sit, step, r, w)
            if where:
                print(f"{name}: DIFFERS at {sit.family} after {sit.path}, {step}: {where}")
                return 1
    seconds = time.perf_counter() - began
    print(
        f"{name}: equivalent on {shapes} situations, {pairs} steps ({asked} asked of Z3, "
        f"{seconds:.0f} s): {what}"
    )
    return 0


def main() -> None:
    names = sys.argv[1:]
    unknown = [n for n in names if n not in WRONG]
    if not names or unknown:
        sys.exit(f"name wrong rules from benchmarks/self_audit.py (unknown: {unknown})")
    sys.exit(max(check(n) for n in names))


if __name__ == "__main__":
    main()
