"""The restore model is `Spec` there: `unbounded-restore-refines-spec`.

For every n and r up to a bound, `Spec`'s restored cascade (V0 with clones, restored from its
(r-1)-th target) and the model of `proofs/restore.py` are related by R — positions as in
`proofs/refinement.py`, S's grain at r, and the ghost (the first holder) spelt out — and every
operation of the model keeps R with the same `Spec` steps, the restore's start included.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import z3

from model.logic import Data, Grain, Patch, and_, eq, select
from model.rules import Spec
from model.shape import Chain
from model.state import State

from .refinement import Link, check_links, cleaned_away, index, linker, positions, related
from .restore import (
    Restored,
    background,
    fresh_restored,
    insert_after_restored,
    remove_other,
    remove_restored,
    start_restore,
    write_other,
    write_restored,
)
from .shapes import Situation, after, empty
from .steps import Step
from .unbounded import Cascade, fresh
from .verdicts import Outcome


def restored_situation(spec: Spec, n: int, r: int | None, kind: str = "clone") -> Situation:
    """`Spec`'s shape: V0 with copies V1..V(n-1) of one kind (started farthest first, so V1 is
    next to V0), then, if r is given, a restore of that kind onto V0 from the target at r-1;
    one spare volume."""
    copies = [f"V{i}" for i in range(1, n)]
    sit = empty(n + 1)
    steps = [Step("start", t, "V0", map_type=kind) for t in reversed(copies)]
    if r is not None:
        steps.append(Step("start", "V0", copies[r - 2], map_type=kind))
    for step in steps:
        sit = after(spec, sit, step)
    return Situation(sit.shape, sit.lost, sit.path, f"restored-{kind}s-{n}-r{r}")


def restored_related(c: Restored, st: State, g: Any) -> Any:
    """R: the cascade's targets (S at its position) as `refinement.related` says, S's grain
    at r whether or not it holds it (its head presents it), and the ghost as what it stands
    for."""
    chains = st.shape.chains
    if len(chains) != 1 or chains[0].head not in chains[0].targets:
        return z3.BoolVal(False)  # the rules left another shape than one restored cascade
    return restored_chain(c, chains[0], st, g)


def restored_chain(c: Restored, chain: Chain, st: State, g: Any) -> Any:
    """R of one restored cascade (its head one of its targets)."""
    order = list(chain.targets)
    r = order.index(chain.head) + 1
    head = eq(c.phys[r], select(st.phys[chain.head], g))
    held = [select(st.split[v], g) for v in order]
    ghost = eq(c.first, first_holder(held))
    return and_(eq(c.r, index(r)), head, *positions(c, order, st, g), ghost)


def first_holder(held: list[Any]) -> Any:
    """The ghost spelt out: the first of positions 1..n that holds the grain, else n+1."""
    first: Any = z3.IntVal(len(held) + 1)
    for i in range(len(held), 0, -1):
        first = z3.If(held[i - 1], i, first)
    return first


def _plain_related(c: Cascade, st: State, g: Any) -> Any:
    """R of one plain cascade (`refinement.related`), or false if the rules left another shape."""
    if len(st.shape.chains) != 1:
        return z3.BoolVal(False)
    chain = st.shape.chains[0]
    return related(c, st, [chain.head, *chain.targets], g)


def _links(
    spec: Spec, n: int, r: int, kind: str, g: Any, d: Any, patch: Any
) -> Iterator[tuple[Situation, list[Link]]]:
    """Every operation of the model with n positions of one kind and S at r, as `Spec` steps
    and the model's own; and the restore's start from the cascade before it. Snapshots take
    every operation but background copy: the model's claims are per operation, so they hold
    of a cascade that never copies in the background too."""
    sit = restored_situation(spec, n, r, kind)
    c = fresh_restored(f"_{n}_{r}")
    order = list(sit.shape.chains[0].targets)
    spare = sit.shape.volumes[-1]

    link = linker(sit.family, c, restored_related, g, d)
    patched = linker(sit.family, c, restored_related, g, patch)  # a partial write's payload

    links = [
        link("write to S", Step("write", "V0"), lambda y: write_restored(y, d), first=True),
        patched(
            "partial write to S",
            Step("write", "V0", whole=False),
            lambda y: write_restored(y, patch, whole=False),
        ),
        link(
            "new target of S",
            Step("start", spare, "V0", map_type=kind),
            insert_after_restored,
        ),
        Link(
            sit.family,
            "S leaves",
            cleaned_away("V0"),
            d,
            lambda pre: restored_related(c, pre, g),
            lambda post: _plain_related(remove_restored(c), post, g),
            False,
        ),
    ]
    for i, v in enumerate(order, start=1):
        at = z3.IntVal(i)
        if kind == "clone":
            copy = Step("copy", v)
            links.append(link(f"copy into {i}", copy, lambda y, at=at: background(y, at)))
        if v != "V0":
            links.append(
                link(f"write to {i}", Step("write", v), lambda y, at=at: write_other(y, at, d))
            )
            links.append(
                patched(
                    f"partial write to {i}",
                    Step("write", v, whole=False),
                    lambda y, at=at: write_other(y, at, patch, whole=False),
                )
            )
            leave = cleaned_away(v)
            links.append(link(f"removal of {i}", leave, lambda y, at=at: remove_other(y, at)))
    yield sit, links
    before = restored_situation(spec, n, None, kind)
    plain = fresh(f"_p{n}_{r}")
    split = start_restore(plain, z3.IntVal(r), None).split
    ghost = first_holder([split[i] for i in range(1, n + 1)])
    start = Step("start", "V0", f"V{r - 1}", map_type=kind)
    yield (
        before,
        [
            Link(
                before.family,
                f"restore from {r - 1}",
                start,
                d,
                lambda pre: _plain_related(plain, pre, g),
                lambda post: restored_related(start_restore(plain, z3.IntVal(r), ghost), post, g),
                True,
            )
        ],
    )


def check_restore_refinement(spec: Spec, bound: int) -> Outcome:
    """`unbounded-restore-refines-spec`: each operation of the model, and the restore's start,
    agree with `Spec` at every n in 2..bound and every r in 2..n, in a cascade of clones and
    in one of snapshots."""
    g = z3.Const("g", Grain)
    d = z3.Const("d", Data)
    patch = z3.Const("patch", Patch)
    shapes = (
        pair
        for n in range(2, bound + 1)
        for r in range(2, n + 1)
        for kind in ("clone", "snapshot")
        for pair in _links(spec, n, r, kind, g, d, patch)
    )
    out = check_links("unbounded-restore-refines-spec", "the restore model", spec, shapes)
    if out.verdict == "proved":
        out.note = f"every n in 2..{bound}, every r in 2..n, clones and snapshots"
    return out
