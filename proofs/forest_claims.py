"""The forest's obligations (`proofs/forest.py` has the model and its rules): each operation
keeps the invariant for every length and every p, type separation as non-interference, one
wrong rule per obligation as its control, and the invariant's vacuity checked on a given long
forest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import z3

from model.logic import Data, Patch

from .forest import (
    Forest,
    background_copy,
    fresh_forest,
    in_range,
    insert,
    inv,
    linked_top,
    remove_a,
    remove_target,
    source,
    write_a,
    write_linked_head,
    write_source,
    write_target,
)
from .unbounded import Cascade, check_parts, holds_of
from .verdicts import Outcome


def _claims(wrong: str) -> dict[str, list[Any]]:
    """Every forest claim; `wrong` names the rule a control replaces."""
    f = fresh_forest("")
    m = z3.Int("m")
    d = z3.Const("d", Data)
    patch = z3.Const("patch", Patch)
    ok = inv(f)

    def keeps(after: Forest, *pre: Any) -> Any:
        return z3.Implies(z3.And(ok, *pre), inv(after))

    def whole_and_partial(write: Callable[[Any, bool], Forest], *pre: Any) -> list[Any]:
        return [keeps(write(d, True), *pre), keeps(write(patch, False), *pre)]

    def copied(c: Cascade) -> Any:  # control: a clone copies the source's grain
        return source(f) if wrong == "copy" else c.ref[m]

    return {
        "unbounded-forest-writes": [
            *whole_and_partial(lambda x, w: write_source(f, x, wrong, w)),
            *whole_and_partial(lambda x, w: write_a(f, m, x, wrong, w), in_range(f.a, m)),
            *whole_and_partial(
                lambda x, w: replace(f, b=write_target(f.b, m, x, w)), in_range(f.b, m)
            ),
            *whole_and_partial(
                lambda x, w: replace(f, linked=write_target(f.linked, m, x, w)),
                in_range(f.linked, m),
            ),
            *whole_and_partial(lambda x, w: write_linked_head(f, x, w), f.l_own),
        ],
        "unbounded-forest-copies": [
            keeps(replace(f, b=background_copy(f.b, m, copied(f.b))), in_range(f.b, m)),
            keeps(
                replace(f, linked=background_copy(f.linked, m, copied(f.linked))),
                in_range(f.linked, m),
            ),
        ],
        "unbounded-forest-insertions": [
            keeps(replace(f, a=insert(f.a, source(f)), p=f.p + 1)),
            keeps(replace(f, b=insert(f.b, source(f)))),
            keeps(
                replace(
                    f, linked=insert(f.linked, source(f) if wrong == "insert" else linked_top(f))
                )
            ),
        ],
        "unbounded-forest-removals": [
            keeps(remove_a(f, m, wrong == "remove"), in_range(f.a, m), f.a.n >= 2),
            keeps(replace(f, b=remove_target(f.b, m)), in_range(f.b, m)),
            keeps(replace(f, linked=remove_target(f.linked, m)), in_range(f.linked, m)),
        ],
        "unbounded-forest-type-separation": _separation(wrong),
    }


Operation = Callable[[Forest, Any, Any], Forest]
Enabled = Callable[[Forest, Any], Any]


def _operations(wrong: str) -> list[tuple[Operation, Enabled]]:
    """Every operation of the forest, as (forest, m, data) -> forest, with when it is enabled."""
    anywhere: Enabled = lambda f, m: z3.BoolVal(True)  # noqa: E731
    return [
        (lambda f, m, d: write_source(f, d, wrong), anywhere),
        (lambda f, m, d: write_a(f, m, d), lambda f, m: in_range(f.a, m)),
        (lambda f, m, d: replace(f, b=write_target(f.b, m, d)), lambda f, m: in_range(f.b, m)),
        (
            lambda f, m, d: replace(f, linked=write_target(f.linked, m, d)),
            lambda f, m: in_range(f.linked, m),
        ),
        (lambda f, m, d: write_linked_head(f, d), lambda f, m: f.l_own),
        (
            lambda f, m, d: replace(f, b=background_copy(f.b, m, f.b.ref[m])),
            lambda f, m: in_range(f.b, m),
        ),
        (
            lambda f, m, d: replace(f, linked=background_copy(f.linked, m, f.linked.ref[m])),
            lambda f, m: in_range(f.linked, m),
        ),
        (lambda f, m, d: replace(f, a=insert(f.a, source(f)), p=f.p + 1), anywhere),
        (lambda f, m, d: replace(f, b=insert(f.b, source(f))), anywhere),
        (lambda f, m, d: replace(f, linked=insert(f.linked, linked_top(f))), anywhere),
        (lambda f, m, d: remove_a(f, m), lambda f, m: z3.And(in_range(f.a, m), f.a.n >= 2)),
        (
            lambda f, m, d: replace(f, b=remove_target(f.b, m)),
            lambda f, m: in_range(f.b, m),
        ),
        (
            lambda f, m, d: replace(f, linked=remove_target(f.linked, m)),
            lambda f, m: in_range(f.linked, m),
        ),
    ]


def _same(x: Cascade, y: Cascade, head: bool = True) -> Any:
    """Two cascades equal: length, and every array (position 0 too when `head`)."""
    if head:
        return z3.And(x.n == y.n, x.split == y.split, x.phys == y.phys, x.ref == y.ref)
    blank = z3.Const("blank", Data)

    def body(arr: Any, fill: Any) -> Any:  # position 0 overwritten alike: it does not count
        return z3.Store(arr, 0, fill)

    return z3.And(
        x.n == y.n,
        body(x.split, False) == body(y.split, False),
        body(x.phys, blank) == body(y.phys, blank),
        body(x.ref, blank) == body(y.ref, blank),
    )


def _separation(wrong: str) -> list[Any]:
    """Non-interference, for every operation: two forests that agree on S's grain and B agree
    on B afterwards, whatever A and L hold; two that agree on A agree on A afterwards, whatever
    B and L hold."""
    f, g = fresh_forest("1"), fresh_forest("2")
    m = z3.Int("m")
    d = z3.Const("d", Data)
    out = []
    for op, enabled in _operations(wrong):
        both = z3.And(enabled(f, m), enabled(g, m))
        out.append(
            z3.Implies(
                z3.And(both, _same(f.b, g.b, head=False), source(f) == source(g)),
                _same(op(f, m, d).b, op(g, m, d).b, head=False),
            )
        )
        out.append(z3.Implies(z3.And(both, _same(f.a, g.a)), _same(op(f, m, d).a, op(g, m, d).a)))
    return out


CONTROL_OF = {
    "unbounded-forest-writes": "linked",
    "unbounded-forest-copies": "copy",
    "unbounded-forest-insertions": "insert",
    "unbounded-forest-removals": "remove",
    "unbounded-forest-type-separation": "type",
}

WRONG_RULES = {
    "linked": "a write to the target at p does not preserve the first target of the cascade "
    "its image heads",
    "copy": "background copy gives a clone the source's grain, not what the clone reads",
    "insert": "a new first target of the linked cascade takes the source's image",
    "remove": "the target at p leaves without cleaning into the cascade its image heads",
    "type": "a write to the source preserves the clone cascade's first target with the "
    "snapshot cascade's data",
}


def not_vacuous() -> bool:
    """The forest invariant holds of a forest with every cascade long, L hanging mid-way and
    the images distinct (the claims are about something). The forest is given, not searched
    for: checking that it satisfies the invariant is quantifier-free once negated, so Z3
    decides it every time (asking Z3 to find such a model under the quantifiers may come back
    unknown)."""
    d = z3.Consts("w0 w1 w2 w3 w4", Data)
    blank = z3.K(z3.IntSort(), d[0])
    no = z3.K(z3.IntSort(), z3.BoolVal(False))

    def cascade(n: int, held: dict[int, Any], images: list[Any]) -> Cascade:
        split, phys, ref = no, blank, blank
        for i, value in held.items():
            split, phys = z3.Store(split, i, True), z3.Store(phys, i, value)
        for i, value in enumerate(images, start=1):
            ref = z3.Store(ref, i, value)
        return Cascade(z3.IntVal(n), split, phys, ref)

    # S holds w0; A: targets 1 and 2 hold w1 and w2, 3 and 4 read w2; B: target 1 holds w3, 2
    # reads it; L hangs from A's target 2: its target 1 reads w2, target 2 holds w4
    a = cascade(4, {1: d[1], 2: d[2]}, [d[1], d[2], d[2], d[2]])
    a = replace(a, phys=z3.Store(a.phys, 0, d[0]))
    witness = Forest(
        a,
        cascade(2, {1: d[3]}, [d[3], d[3]]),
        cascade(2, {2: d[4]}, [d[2], d[4]]),
        z3.IntVal(2),
        z3.BoolVal(False),
    )
    return holds_of(d, inv(witness))


def check_forest(wrong: str = "", only: set[str] | None = None) -> list[Outcome]:
    """Check every forest claim (or, with `wrong`, the claims under that control)."""
    return check_parts(_claims(wrong), not_vacuous, "the forest invariant", only)
