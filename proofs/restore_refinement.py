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
from model.shape import Chain, Shape
from model.state import State

from .forest import landed
from .refinement import Link, check_links, index, linker, positions, related
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
from .restore_heads import Heads, fresh_heads, in_a, in_c, write_s
from .shapes import Situation, after, empty
from .steps import Step
from .unbounded import Cascade, fresh, remove_cleaned, target_write
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
    return _restored_chain(c, chains[0], st, g)


def _restored_chain(c: Restored, chain: Chain, st: State, g: Any) -> Any:
    """R of one restored cascade (its head one of its targets)."""
    order = list(chain.targets)
    r = order.index(chain.head) + 1
    head = eq(c.phys[r], select(st.phys[chain.head], g))
    held = [select(st.split[v], g) for v in order]
    ghost = eq(c.first, _first_holder(held))
    return and_(eq(c.r, index(r)), head, *positions(c, order, st, g), ghost)


def _first_holder(held: list[Any]) -> Any:
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
            [Step("stop", "V0"), Step("clean", "V0"), Step("leave", "V0", complete=False)],
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
            leave = [Step("stop", v), Step("clean", v), Step("leave", v, complete=False)]
            links.append(link(f"removal of {i}", leave, lambda y, at=at: remove_other(y, at)))
    yield sit, links
    before = restored_situation(spec, n, None, kind)
    plain = fresh(f"_p{n}_{r}")
    split = start_restore(plain, z3.IntVal(r), None).split
    ghost = _first_holder([split[i] for i in range(1, n + 1)])
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


def heads_situation(spec: Spec, clones: int, snapshots: int, r: int | None) -> Situation:
    """`Spec`'s shape: V0 with clones V1.. (V1 next to it) and then snapshots, each kind in a
    cascade of its own, and, if r is given, a restore onto V0 from the clone at position r-1
    (two frozen heads); one spare volume."""
    made = [f"V{i}" for i in range(1, clones + 1)]
    snaps = [f"V{i}" for i in range(clones + 1, clones + snapshots + 1)]
    steps = [Step("start", t, "V0", map_type="clone") for t in reversed(made)]
    steps += [Step("start", t, "V0", map_type="snapshot") for t in reversed(snaps)]
    if r is not None:
        steps.append(Step("start", "V0", made[r - 2], map_type="clone"))
    sit = empty(clones + snapshots + 2)
    for step in steps:
        sit = after(spec, sit, step)
    return Situation(sit.shape, sit.lost, sit.path, f"restored-heads-{clones}-{snapshots}-r{r}")


def _two_chains(shape: Shape) -> tuple[Chain, Chain] | None:
    """V0's clone cascade and its snapshot cascade (None: the rules left another shape)."""
    chains = shape.chains
    clone = [ch for ch in chains if ch.kind == "clone"]
    snap = [ch for ch in chains if ch.kind == "snapshot" and ch.head == "V0"]
    if len(chains) != 2 or len(clone) != 1 or len(snap) != 1:
        return None
    return clone[0], snap[0]


def heads_related(h: Heads, st: State, g: Any) -> Any:
    """R of two frozen heads: C as a restored cascade, A's targets position by position (A's
    head is S's storage, which C's part relates)."""
    found = _two_chains(st.shape)
    if found is None or "V0" not in found[0].targets:
        return z3.BoolVal(False)
    clones, snaps = found
    return and_(_restored_chain(h.c, clones, st, g), *positions(h.a, list(snaps.targets), st, g))


def _plain_pair_related(c: Cascade, a: Cascade, st: State, g: Any) -> Any:
    """R of V0 heading two plain cascades, C and A (A's head presents C's head's contents)."""
    found = _two_chains(st.shape)
    if found is None or found[0].head != "V0":
        return z3.BoolVal(False)
    clones, snaps = found
    view = Cascade(a.n, a.split, z3.Store(a.phys, 0, c.phys[0]), a.ref)
    return and_(
        related(c, st, [clones.head, *clones.targets], g),
        related(view, st, [snaps.head, *snaps.targets], g),
    )


def _heads_links(
    spec: Spec, clones: int, snapshots: int, r: int, g: Any, d: Any, patch: Any
) -> Iterator[tuple[Situation, list[Link]]]:
    """Every operation of the two-heads model, as `Spec` steps and the model's own; and the
    restore's start from the two cascades before it."""
    sit = heads_situation(spec, clones, snapshots, r)
    h = fresh_heads(f"_{clones}_{snapshots}_{r}")
    found = _two_chains(sit.shape)
    link = linker(sit.family, h, heads_related, g, d)
    first = link("write to S", Step("write", "V0"), lambda y: write_s(y, d), first=True)
    if found is None:  # the rules build another shape: no state is related to the model
        yield sit, [first]
        return
    order, snaps = list(found[0].targets), list(found[1].targets)
    spare = sit.shape.volumes[-1]
    patched = linker(sit.family, h, heads_related, g, patch)
    links = [
        first,
        patched(
            "partial write to S",
            Step("write", "V0", whole=False),
            lambda y: write_s(y, patch, whole=False),
        ),
        link(
            "new clone of S",
            Step("start", spare, "V0", map_type="clone"),
            lambda y: in_c(y, insert_after_restored),
        ),
        Link(
            sit.family,
            "S leaves",
            [Step("stop", "V0"), Step("clean", "V0"), Step("leave", "V0", complete=False)],
            d,
            lambda pre: heads_related(h, pre, g),
            lambda post: _plain_pair_related(remove_restored(h.c), h.a, post, g),
            False,
        ),
    ]
    for i, v in enumerate(order, start=1):
        at = z3.IntVal(i)
        links.append(link(f"copy into {i}", Step("copy", v), lambda y, at=at: in_c(y, _copy(at))))
        if v == "V0":
            continue
        links += [
            link(f"write to {i}", Step("write", v), lambda y, at=at: in_c(y, _write(at, d))),
            patched(
                f"partial write to {i}",
                Step("write", v, whole=False),
                lambda y, at=at: in_c(y, _write(at, patch, whole=False)),
            ),
            link(
                f"removal of {i}",
                [Step("stop", v), Step("clean", v), Step("leave", v, complete=False)],
                lambda y, at=at: in_c(y, _remove(at)),
            ),
        ]
    for i, v in enumerate(snaps, start=1):
        at = z3.IntVal(i)
        links += [
            link(
                f"write to snapshot {i}",
                Step("write", v),
                lambda y, at=at: in_a(y, lambda a, at=at: target_write(a, at, d)),
            ),
            patched(
                f"partial write to snapshot {i}",
                Step("write", v, whole=False),
                lambda y, at=at: in_a(
                    y, lambda a, at=at: target_write(a, at, landed(a.ref[at], patch, False))
                ),
            ),
        ]
        if len(snaps) >= 2:
            links.append(
                link(
                    f"removal of snapshot {i}",
                    [Step("stop", v), Step("clean", v), Step("leave", v, complete=False)],
                    lambda y, at=at: in_a(y, lambda a, at=at: remove_cleaned(a, at)),
                )
            )
    yield sit, links
    before = heads_situation(spec, clones, snapshots, None)
    plain = fresh(f"_hp{clones}_{snapshots}_{r}")
    split = start_restore(plain, z3.IntVal(r), None).split
    ghost = _first_holder([split[i] for i in range(1, clones + 2)])
    started = Heads(start_restore(plain, z3.IntVal(r), ghost), h.a)
    start = Step("start", "V0", f"V{r - 1}", map_type="clone")
    restore = Link(
        before.family,
        f"restore from {r - 1}",
        start,
        d,
        lambda pre: _plain_pair_related(plain, h.a, pre, g),
        lambda post: heads_related(started, post, g),
        True,
    )
    yield before, [restore]


def _copy(at: Any) -> Any:
    """Background copy into C's position `at`, as a step of C."""
    return lambda c: background(c, at)


def _write(at: Any, data: Any, whole: bool = True) -> Any:
    """A write to C's target at `at`, as a step of C."""
    return lambda c: write_other(c, at, data, whole)


def _remove(at: Any) -> Any:
    """Removal of C's target at `at` after cleaning, as a step of C."""
    return lambda c: remove_other(c, at)


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


def check_heads_refinement(spec: Spec, bound: int) -> Outcome:
    """`unbounded-restore-heads-refines-spec`: each operation of the two-heads model, and the
    restore's start, agree with `Spec` on V0 with c clones and s snapshots (c + s < bound),
    restored from each clone. A per-type claim: under the mixed policy V0 heads one cascade,
    which the model (a cascade per type) does not describe."""
    g = z3.Const("g", Grain)
    d = z3.Const("d", Data)
    patch = z3.Const("patch", Patch)
    shapes = (  # C of `clones` + 1 positions (S among them) and A of `snapshots`
        pair
        for clones in range(1, bound)
        for snapshots in range(1, bound - clones)
        for r in range(2, clones + 2)
        for pair in _heads_links(spec, clones, snapshots, r, g, d, patch)
    )
    out = check_links("unbounded-restore-heads-refines-spec", "the two-heads model", spec, shapes)
    if out.verdict == "proved":
        out.note = f"V0 with c clones and s snapshots, c + s <= {bound - 1}, every r"
    return out
