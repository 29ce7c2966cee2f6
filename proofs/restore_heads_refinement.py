"""The frozen-heads model is `Spec` there: `unbounded-restore-heads-refines-spec`.

`Spec`'s shapes: V0 with a clone cascade and a snapshot cascade, restored again and again from
its first clone and copied anew (one more snapshot) while each restore runs — so each of those
copies heads a snapshot cascade of its own once that restore completes — and then restored
from the clone at position r-1: 1 + m frozen heads. For every such shape up to a bound, R
relates the model of `proofs/restore_heads.py` to `Spec` (C as `restore_refinement` relates a
restored cascade; m, and each snapshot cascade A_j position by position, j in the order `Spec`
lists them), and every operation of the model keeps R with the same `Spec` steps, the last
restore's start included. A per-type claim: under the mixed policy V0 heads one cascade.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import z3

from model.logic import Data, Grain, Patch, and_, eq
from model.rules import Spec
from model.shape import IMAGE, PHYSICAL, Chain, Shape
from model.state import State

from .forest import landed
from .refinement import Link, check_links, cleaned_away, index, linker, positions, related
from .restore import (
    Restored,
    background,
    insert_after_restored,
    remove_other,
    remove_restored,
    start_restore,
    write_other,
)
from .restore_heads import (
    Heads,
    Snapshots,
    cascade_of,
    fresh_heads,
    in_a,
    in_c,
    storage,
    write_s,
)
from .restore_refinement import first_holder, restored_chain
from .shapes import Situation, after, empty
from .steps import Step
from .unbounded import Cascade, fresh, remove_cleaned, target_write
from .verdicts import Outcome


def heads_situation(
    spec: Spec, clones: int, snaps: int, again: int, r: int | None, spare: int = 1
) -> Situation:
    """`Spec`'s shape: V0 with clones V1.. (V1 next to it) and then snapshots, each kind in a
    cascade of its own; `again` times restored from V1 and copied anew by one more snapshot
    before that restore completes; then, if r is given, restored from the clone at position
    r-1 (1 + m frozen heads, m = 1 + again). `spare` volumes more, unused."""
    made = [f"V{i}" for i in range(1, clones + 1)]
    first = [f"V{i}" for i in range(clones + 1, clones + snaps + 1)]
    more = [f"V{i}" for i in range(clones + snaps + 1, clones + snaps + again + 1)]
    steps = [Step("start", t, "V0", map_type="clone") for t in reversed(made)]
    steps += [Step("start", t, "V0", map_type="snapshot") for t in reversed(first)]
    for t in more:
        steps += [
            Step("start", "V0", "V1", map_type="clone"),
            Step("start", t, "V0", map_type="snapshot"),
            Step("leave", "V0", complete=True),
        ]
    if r is not None:
        steps.append(Step("start", "V0", made[r - 2], map_type="clone"))
    sit = empty(clones + snaps + again + 1 + spare)
    for step in steps:
        sit = after(spec, sit, step)
    family = f"restored-heads-{clones}-{snaps}-{again}-r{r}"
    return Situation(sit.shape, sit.lost, sit.path, family)


def cascades(shape: Shape) -> tuple[Chain, list[Chain]] | None:
    """V0's clone cascade and its snapshot cascades, in `Spec`'s order (None: the rules left
    another shape, a cascade headed by V0's image among them)."""
    found = cascades_with_image(shape)
    if found is None or found[2] is not None:
        return None
    return found[0], found[1]


def cascades_with_image(shape: Shape) -> tuple[Chain, list[Chain], Chain | None] | None:
    """V0's clone cascade, the snapshot cascades it heads physically, in `Spec`'s order, and
    the one snapshot cascade it heads by its image, if any (None: another shape)."""
    clone = [ch for ch in shape.chains if ch.kind == "clone" and ch.head_mode == PHYSICAL]
    snaps = [ch for ch in shape.chains if ch.kind == "snapshot" and ch.head == "V0"]
    own = [ch for ch in snaps if ch.head_mode == PHYSICAL]
    image = [ch for ch in snaps if ch.head_mode == IMAGE]
    if len(clone) != 1 or not own or len(image) > 1 or len(shape.chains) != 1 + len(snaps):
        return None
    return clone[0], own, image[0] if image else None


def heads_related(h: Heads, st: State, g: Any) -> Any:
    """R of the frozen heads: C as a restored cascade, the number of snapshot cascades, and
    each A_j's targets position by position (every head is S's storage, which C's part
    relates)."""
    found = cascades(st.shape)
    if found is None or "V0" not in found[0].targets:
        return z3.BoolVal(False)
    return and_(*heads_parts(h, *found, st, g))


def heads_parts(h: Heads, clones: Chain, snaps: list[Chain], st: State, g: Any) -> list[Any]:
    """R's parts for C (restored) and every A_j."""
    parts = [restored_chain(h.c, clones, st, g), eq(h.a.m, index(len(snaps)))]
    for j, chain in enumerate(snaps, start=1):
        parts += positions(cascade_of(h.a, index(j), storage(h)), list(chain.targets), st, g)
    return parts


def plain_related(c: Cascade, a: Snapshots, st: State, g: Any) -> Any:
    """R of V0 heading plain cascades: C, and every A_j (its head presents C's head's
    contents)."""
    found = cascades(st.shape)
    if found is None or found[0].head != "V0":
        return z3.BoolVal(False)
    return and_(*plain_parts(c, a, *found, st, g))


def plain_parts(
    c: Cascade, a: Snapshots, clones: Chain, snaps: list[Chain], st: State, g: Any
) -> list[Any]:
    """R's parts for C and every A_j once V0 heads them as a plain volume."""
    parts = [related(c, st, [clones.head, *clones.targets], g), eq(a.m, index(len(snaps)))]
    for j, chain in enumerate(snaps, start=1):
        view = cascade_of(a, index(j), c.phys[0])
        parts.append(related(view, st, [chain.head, *chain.targets], g))
    return parts


def _links(
    spec: Spec, shape: tuple[int, int, int, int], g: Any, d: Any, patch: Any
) -> Iterator[tuple[Situation, list[Link]]]:
    """Every operation of the model, as `Spec` steps and the model's own; and the last
    restore's start from the cascades before it."""
    clones, snaps, again, r = shape
    sit = heads_situation(spec, clones, snaps, again, r)
    h = fresh_heads(f"_{clones}_{snaps}_{again}_{r}")
    link = linker(sit.family, h, heads_related, g, d)
    first = link("write to S", Step("write", "V0"), lambda y: write_s(y, d), first=True)
    found = cascades(sit.shape)
    if found is None:  # the rules build another shape: no state is related to the model
        yield sit, [first]
        return
    patched = linker(sit.family, h, heads_related, g, patch)
    links = [
        first,
        patched("partial write to S", Step("write", "V0", whole=False), _partial_s(patch)),
        link(
            "new clone of S",
            Step("start", sit.shape.volumes[-1], "V0", map_type="clone"),
            lambda y: in_c(y, insert_after_restored),
        ),
        Link(
            sit.family,
            "S leaves",
            cleaned_away("V0"),
            d,
            lambda pre: heads_related(h, pre, g),
            lambda post: plain_related(remove_restored(h.c), h.a, post, g),
            False,
        ),
    ]
    links += clone_links(link, patched, list(found[0].targets), d, patch)
    for j, chain in enumerate(found[1], start=1):
        links += snapshot_links(link, patched, index(j), list(chain.targets), d, patch)
    yield sit, links
    yield _start(spec, shape, h, g, d)


def _partial_s(patch: Any) -> Any:
    """A partial write to S, as a step of the model."""
    return lambda y: write_s(y, patch, whole=False)


Lift = Callable[[Callable[[Heads], Heads]], Callable[[Any], Any]]


def _as_is(step: Callable[[Heads], Heads]) -> Callable[[Any], Any]:
    """A step of the frozen-heads model, as a step of that model itself."""
    return step


def clone_links(
    link: Any, patched: Any, targets: list[str], d: Any, patch: Any, lift: Lift = _as_is
) -> list[Link]:
    """Background copy into every position of C, and writes (whole and partial) to and the
    removal of every target but S; `lift` makes a step of the frozen-heads model one of the
    model the links are about (`restore_copied_refinement` wraps it in its own)."""

    def of_c(step: Callable[[Restored], Restored]) -> Callable[[Any], Any]:
        return lift(lambda h: in_c(h, step))

    out = []
    for i, v in enumerate(targets, start=1):
        at = index(i)
        out.append(
            link(f"copy into {i}", Step("copy", v), of_c(lambda c, at=at: background(c, at)))
        )
        if v != "V0":
            out += [
                link(
                    f"write to {i}", Step("write", v), of_c(lambda c, at=at: write_other(c, at, d))
                ),
                patched(
                    f"partial write to {i}",
                    Step("write", v, whole=False),
                    of_c(lambda c, at=at: write_other(c, at, patch, whole=False)),
                ),
                link(
                    f"removal of {i}", cleaned_away(v), of_c(lambda c, at=at: remove_other(c, at))
                ),
            ]
    return out


def snapshot_links(
    link: Any, patched: Any, j: Any, targets: list[str], d: Any, patch: Any, lift: Lift = _as_is
) -> list[Link]:
    """Writes (whole and partial) to every target of A_j, and their removals if A_j has two;
    `lift` as for `clone_links`."""

    def of_a(step: Callable[[Cascade], Cascade]) -> Callable[[Any], Any]:
        return lift(lambda h: in_a(h, j, step))

    out = []
    for i, v in enumerate(targets, start=1):
        at = index(i)
        out += [
            link(
                f"write to snapshot {i} of A_{j}",
                Step("write", v),
                of_a(lambda a, at=at: target_write(a, at, d)),
            ),
            patched(
                f"partial write to snapshot {i} of A_{j}",
                Step("write", v, whole=False),
                of_a(lambda a, at=at: target_write(a, at, landed(a.ref[at], patch, False))),
            ),
        ]
        if len(targets) >= 2:
            out.append(
                link(
                    f"removal of snapshot {i} of A_{j}",
                    cleaned_away(v),
                    of_a(lambda a, at=at: remove_cleaned(a, at)),
                )
            )
    return out


def _start(
    spec: Spec, shape: tuple[int, int, int, int], h: Heads, g: Any, d: Any
) -> tuple[Situation, list[Link]]:
    """The last restore's start, from V0 heading plain cascades."""
    clones, snaps, again, r = shape
    before = heads_situation(spec, clones, snaps, again, None)
    plain = fresh(f"_hp{clones}_{snaps}_{again}_{r}")
    split = start_restore(plain, index(r), None).split
    ghost = first_holder([split[i] for i in range(1, clones + 2)])
    started = Heads(start_restore(plain, index(r), ghost), h.a)
    restore = Link(
        before.family,
        f"restore from {r - 1}",
        Step("start", "V0", f"V{r - 1}", map_type="clone"),
        d,
        lambda pre: plain_related(plain, h.a, pre, g),
        lambda post: heads_related(started, post, g),
        True,
    )
    return before, [restore]


def check_heads_refinement(spec: Spec, bound: int) -> Outcome:
    """`unbounded-restore-heads-refines-spec`: each operation of the frozen-heads model, and
    the last restore's start, agree with `Spec` on V0 with c clones and s snapshots, restored
    `again` times in between (c + s + again < bound), then from each clone."""
    g = z3.Const("g", Grain)
    d = z3.Const("d", Data)
    patch = z3.Const("patch", Patch)
    shapes = (
        pair
        for clones in range(1, bound)
        for snaps in range(1, bound - clones)
        for again in range(bound - clones - snaps)
        for r in range(2, clones + 2)
        for pair in _links(spec, (clones, snaps, again, r), g, d, patch)
    )
    model = "the frozen-heads model"
    out = check_links("unbounded-restore-heads-refines-spec", model, spec, shapes)
    if out.verdict == "proved":
        out.note = (
            f"V0 with c clones, s snapshots, restored `again` times: c + s + again <= {bound - 1}"
        )
    return out
