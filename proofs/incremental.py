"""An incremental map beside a cascade of any length: its record of change, and its refresh.

A source S heads a clone cascade of n >= 1 targets (`unbounded.Cascade`, any n). An
incremental clone map S -> P sits idle between refreshes: P is off the cascade, holding what it
copied, and keeps a record of change (`diff`). At one grain (so every size):

    P's part of the invariant:
      P has an image             =>  P reads its own grain: ref_p = phys_p
      no change recorded, P holds the grain  =>  phys_p = S's grain
      no change recorded, P has an image     =>  ref_p = S's grain

(S's image is its grain: it heads the cascade physically.) The operations: a write to S (the
cascade's head write, and the change recorded), a write to P (recorded), writes, insertions and
removals in the cascade (P untouched), and the **refresh**: P starts again, joining the cascade
at position 1 and keeping the grains it holds where no change is recorded. Each keeps the
cascade's local invariant and P's part, for every n: the refresh is correct exactly because
the record of change is.

The controls: a write to S that is not recorded, and a refresh that keeps every grain P holds.
That the model is `Spec` is checked at every n up to K (`check_incremental_refinement`). Every
write may be whole-grain or partial (since stop 26: the patch merged over the written volume's
image). Several incremental maps and incremental restores are not modelled (the bounded shapes
carry them).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import z3

from model.logic import Data, Grain, Patch, select
from model.rules import Spec
from model.state import State

from .forest import landed
from .refinement import Link, check_links, cleaned_away, linker, related
from .shapes import Situation, after, empty
from .steps import Step
from .unbounded import (
    Cascade,
    check_parts,
    fresh,
    head_write,
    holds_of,
    insert_first,
    inv,
    remove_cleaned,
    target_write,
)
from .verdicts import Outcome


@dataclass(frozen=True)
class Idle:
    """S's clone cascade, and the idle incremental target P at one grain."""

    c: Cascade
    phys: Any  # P's grain
    split: Any  # P holds it (copied, or written)
    diff: Any  # a change is recorded for it since P's last start
    ref: Any  # P's image (when it has one)
    image: Any  # P has an image (a copy that completed; one stopped early has none)


def fresh_idle(tag: str) -> Idle:
    """An arbitrary cascade and idle incremental target."""
    return Idle(
        fresh(tag),
        z3.Const(f"pphys{tag}", Data),
        z3.Bool(f"psplit{tag}"),
        z3.Bool(f"pdiff{tag}"),
        z3.Const(f"pref{tag}", Data),
        z3.Bool(f"pimage{tag}"),
    )


def agreement(x: Idle) -> Any:
    """P's part of the invariant: it reads its own grain, and where no change is recorded what
    it holds and its image are S's."""
    same = z3.Not(x.diff)
    return z3.And(
        z3.Implies(x.image, x.ref == x.phys),
        z3.Implies(z3.And(same, x.split), x.phys == x.c.phys[0]),
        z3.Implies(z3.And(same, x.image), x.ref == x.c.phys[0]),
    )


def idle_inv(x: Idle) -> Any:
    """The cascade's invariant and P's part."""
    return z3.And(inv(x.c), agreement(x))


# -- operations (each one rule; `wrong` selects the control's version) ---------------------


def write_source(x: Idle, data: Any, wrong: bool = False, whole: bool = True) -> Idle:
    """A write to S: the cascade's head write (a partial one: the patch merged over S's grain,
    its image); P's map records the change (control: not)."""
    c = head_write(x.c, landed(x.c.phys[0], data, whole))
    return replace(x, c=c, diff=x.diff if wrong else z3.BoolVal(True))


def write_idle(x: Idle, data: Any, whole: bool = True) -> Idle:
    """A write to P (it has an image: a stopped one is offline): P's grain and image are the
    new data (a partial write: the patch merged over P's image, which is its own grain), and
    its map records the change (its bits stay: P has no position to fill)."""
    new = landed(x.ref, data, whole)
    return replace(x, phys=new, diff=z3.BoolVal(True), ref=new)


def refresh(x: Idle, wrong: bool = False) -> Cascade:
    """P starts again: it joins the cascade at position 1 with its image S's, holding only the
    grains unchanged since its last start (control: every grain it holds)."""
    c = insert_first(x.c)
    held = x.split if wrong else z3.And(x.split, z3.Not(x.diff))
    return replace(
        c,
        split=z3.Store(c.split, 1, held),
        phys=z3.Store(c.phys, 1, x.phys),
        ref=z3.Store(c.ref, 1, x.c.phys[0]),
    )


# -- obligations -------------------------------------------------------------------------


def _claims(wrong: str) -> dict[str, list[Any]]:
    """Every claim about the idle incremental target; `wrong` names a control's rule."""
    x = fresh_idle("")
    m = z3.Int("m")
    d = z3.Const("d", Data)
    patch = z3.Const("patch", Patch)
    ok = idle_inv(x)
    in_range = z3.And(m >= 1, m <= x.c.n)

    def keeps(after: Idle, *pre: Any) -> Any:
        return z3.Implies(z3.And(ok, *pre), idle_inv(after))

    return {
        "unbounded-incremental-writes": [
            keeps(write_source(x, d, wrong == "source")),
            keeps(write_source(x, patch, wrong == "source", whole=False)),
            keeps(write_idle(x, d), x.image),
            keeps(write_idle(x, patch, whole=False), x.image),
            keeps(replace(x, c=target_write(x.c, m, d)), in_range),
            keeps(replace(x, c=target_write(x.c, m, landed(x.c.ref[m], patch, False))), in_range),
            keeps(replace(x, c=insert_first(x.c))),
            keeps(replace(x, c=remove_cleaned(x.c, m)), in_range, x.c.n >= 2),
        ],
        "unbounded-incremental-refresh": [
            z3.Implies(ok, inv(refresh(x, wrong == "refresh"))),
        ],
    }


CONTROL_OF = {
    "unbounded-incremental-writes": "source",
    "unbounded-incremental-refresh": "refresh",
}

WRONG_RULES = {
    "source": "a write to the source is not recorded by the incremental map from it",
    "refresh": "a refresh keeps every grain the target holds, changed or not",
}


def not_vacuous() -> bool:
    """The invariant holds of a given long cascade with P holding S's grain, unchanged, with an
    image (quantifier-free once negated: Z3 decides it)."""
    w = z3.Consts("w0 w1 w2", Data)
    split = z3.Store(z3.K(z3.IntSort(), z3.BoolVal(False)), 2, True)
    phys = z3.Store(z3.K(z3.IntSort(), w[0]), 2, w[1])
    ref = z3.Store(z3.Store(z3.K(z3.IntSort(), w[0]), 2, w[1]), 3, w[1])
    witness = Idle(
        Cascade(z3.IntVal(3), split, phys, ref),
        w[0],
        z3.BoolVal(True),
        z3.BoolVal(False),
        w[0],
        z3.BoolVal(True),
    )
    return holds_of(w, idle_inv(witness))


def check_incremental(wrong: str = "", only: set[str] | None = None) -> list[Outcome]:
    """Check every claim (or, with `wrong`, the claims under that control)."""
    return check_parts(_claims(wrong), not_vacuous, "the invariant", only)


# -- the link to Spec ---------------------------------------------------------------------


def idle_situation(spec: Spec, n: int) -> Situation:
    """`Spec`'s shape: V0 with an incremental clone map onto P = V1 that completed and left,
    then n clones of V0 (started farthest first), and one spare volume for starts."""
    clones = [f"V{i}" for i in range(2, n + 2)]
    sit = empty(n + 3)
    steps = [
        Step("start", "V1", "V0", map_type="clone", incremental=True),
        Step("leave", "V1", complete=True),
        *(Step("start", t, "V0", map_type="clone") for t in reversed(clones)),
    ]
    for step in steps:
        sit = after(spec, sit, step)
    return replace(sit, family=f"incremental-idle-{n}")


def idle_related(x: Idle, st: State, g: Any) -> Any:
    """R: the cascade as `refinement.related` says, and P = V1's grain, bits and image."""
    order = [st.shape.chains[0].head, *st.shape.chains[0].targets]
    parts = [
        related(x.c, st, order, g),
        x.phys == select(st.phys["V1"], g),
        x.split == select(st.split["V1"], g),
        x.diff == select(st.diff["V1"], g),
        x.image == ("V1" in st.ref),
    ]
    if "V1" in st.ref:
        parts.append(x.ref == select(st.ref["V1"], g))
    return z3.And(*parts)


def _links(spec: Spec, n: int, g: Any, d: Any, patch: Any) -> tuple[Situation, list[Link]]:
    """Every operation of the model at cascade length n, as `Spec` steps and the model's."""
    sit = idle_situation(spec, n)
    x = fresh_idle(f"_{n}")
    order = [sit.shape.chains[0].head, *sit.shape.chains[0].targets]

    link = linker(sit.family, x, idle_related, g, d)
    patched = linker(sit.family, x, idle_related, g, patch)  # a partial write's payload

    spare = sit.shape.volumes[-1]
    links = [
        link("write to S", Step("write", "V0"), lambda y: write_source(y, d), first=True),
        patched(
            "partial write to S",
            Step("write", "V0", whole=False),
            lambda y: write_source(y, patch, whole=False),
        ),
        link("write to P", Step("write", "V1"), lambda y: write_idle(y, d)),
        patched(
            "partial write to P",
            Step("write", "V1", whole=False),
            lambda y: write_idle(y, patch, whole=False),
        ),
        link(
            "insertion",
            Step("start", spare, "V0", map_type="clone"),
            lambda y: replace(y, c=insert_first(y.c)),
        ),
    ]
    for i, v in enumerate(order[1:], start=1):
        at = z3.IntVal(i)
        links.append(
            link(
                f"write to target {i}",
                Step("write", v),
                lambda y, at=at: replace(y, c=target_write(y.c, at, d)),
            )
        )
        links.append(
            patched(
                f"partial write to target {i}",
                Step("write", v, whole=False),
                lambda y, at=at: replace(
                    y, c=target_write(y.c, at, landed(y.c.ref[at], patch, False))
                ),
            )
        )
        if n >= 2:
            leave = cleaned_away(v)
            links.append(
                link(
                    f"removal of target {i}",
                    leave,
                    lambda y, at=at: replace(y, c=remove_cleaned(y.c, at)),
                )
            )
    refresh_step = Step("start", "V1", "V0", map_type="clone", incremental=True)
    links.append(
        Link(
            sit.family,
            "refresh",
            refresh_step,
            d,
            lambda pre: idle_related(x, pre, g),
            lambda post: related(
                refresh(x), post, [post.shape.chains[0].head, *post.shape.chains[0].targets], g
            ),
            False,
        )
    )
    return sit, links


def check_incremental_refinement(spec: Spec, bound: int) -> Outcome:
    """`unbounded-incremental-refines-spec`: each operation of the model agrees with `Spec` at
    every cascade length 1..bound: R before and `Spec`'s Inv imply R after (the refresh: R of
    the cascade P has joined)."""
    g = z3.Const("g", Grain)
    d = z3.Const("d", Data)
    patch = z3.Const("patch", Patch)
    shapes = (_links(spec, n, g, d, patch) for n in range(1, bound + 1))
    return check_links("unbounded-incremental-refines-spec", "the incremental model", spec, shapes)
