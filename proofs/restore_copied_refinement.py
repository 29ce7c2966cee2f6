"""The copied-while-restored model is `Spec` there: `unbounded-restore-copied-refines-spec`.

`Spec`'s shapes: `restore_heads_refinement.heads_situation` (V0 with clones and snapshots,
restored `again` times and copied anew meanwhile, then restored from the clone at r-1), and
then `news` new snapshots of V0 started while that last restore runs — they open, and join, a
cascade N headed by V0's image. For every such shape up to a bound, R relates the model of
`proofs/restore_copied.py` to `Spec` (C and the A_j as the frozen-heads link relates them, N
position by position), and every operation of the model keeps R with the same `Spec` steps:
writes to V0 and to every target of every cascade, background copy into C, removals, a new
clone and a new snapshot of V0, and V0 leaving C (after which N's head is V0's own).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import z3

from model.logic import Data, Grain, Patch, and_
from model.rules import Spec
from model.state import State

from .forest import remove_target, write_target
from .refinement import Link, check_links, cleaned_away, index, linker, positions, related
from .restore import insert_after_restored
from .restore_copied import (
    Copied,
    fresh_copied,
    in_heads,
    in_new,
    new_snapshot,
    s_leaves,
    write_to_s,
)
from .restore_heads import Heads, in_c
from .restore_heads_refinement import (
    cascades,
    cascades_with_image,
    clone_links,
    heads_parts,
    heads_situation,
    plain_parts,
    snapshot_links,
)
from .shapes import Situation, after
from .steps import Step
from .unbounded import Cascade
from .verdicts import Outcome

Shape5 = tuple[int, int, int, int, int]


def copied_situation(spec: Spec, shape: Shape5) -> Situation:
    """`heads_situation`, then `news` new snapshots of V0 while its last restore runs (the
    first opens N, each later one joins it next to its head); one spare volume."""
    clones, snaps, again, r, news = shape
    sit = heads_situation(spec, clones, snaps, again, r, spare=news + 1)
    made = clones + snaps + again
    for i in range(made + 1, made + news + 1):
        sit = after(spec, sit, Step("start", f"V{i}", "V0", map_type="snapshot"))
    family = f"restored-copied-{clones}-{snaps}-{again}-r{r}-n{news}"
    return Situation(sit.shape, sit.lost, sit.path, family)


def copied_related(x: Copied, st: State, g: Any) -> Any:
    """R: C and every A_j as the frozen-heads link relates them, and N's targets position by
    position (no N: length 0)."""
    found = cascades_with_image(st.shape)
    if found is None or "V0" not in found[0].targets:
        return z3.BoolVal(False)
    clones, snaps, image = found
    parts = heads_parts(x.h, clones, snaps, st, g)
    parts += positions(x.new, list(image.targets) if image else [], st, g)
    return and_(*parts)


def _links(spec: Spec, shape: Shape5, g: Any, d: Any, patch: Any) -> tuple[Situation, list[Link]]:
    """The shape, and every operation of the model there, as `Spec` steps and the model's
    own."""
    clones, snaps, again, r, news = shape
    sit = copied_situation(spec, shape)
    x = fresh_copied(f"_{clones}_{snaps}_{again}_{r}_{news}")
    link = linker(sit.family, x, copied_related, g, d)
    patched = linker(sit.family, x, copied_related, g, patch)
    first = link("write to S", Step("write", "V0"), lambda y: write_to_s(y, d), first=True)
    found = cascades_with_image(sit.shape)
    if found is None:  # the rules build another shape: no state is related to the model
        return sit, [first]
    clones_chain, snaps_chain, image = found
    spare = sit.shape.volumes[-1]
    ended, new = s_leaves(x)
    links = [
        first,
        patched(
            "partial write to S",
            Step("write", "V0", whole=False),
            lambda y: write_to_s(y, patch, whole=False),
        ),
        link(
            "new clone of S",
            Step("start", spare, "V0", map_type="clone"),
            _in_heads(lambda h: in_c(h, insert_after_restored)),
        ),
        link("new snapshot of S", Step("start", spare, "V0", map_type="snapshot"), new_snapshot),
        Link(
            sit.family,
            "S leaves",
            cleaned_away("V0"),
            d,
            lambda pre: copied_related(x, pre, g),
            lambda post: _ended(ended, new, x, post, g, news),
            False,
        ),
    ]
    links += clone_links(link, patched, list(clones_chain.targets), d, patch, _in_heads)
    for j, chain in enumerate(snaps_chain, start=1):
        targets = list(chain.targets)
        links += snapshot_links(link, patched, index(j), targets, d, patch, _in_heads)
    for i, v in enumerate(image.targets if image else (), start=1):
        at = index(i)
        links += [
            link(
                f"write to {i} of N",
                Step("write", v),
                lambda y, at=at: in_new(y, lambda c: write_target(c, at, d)),
            ),
            patched(
                f"partial write to {i} of N",
                Step("write", v, whole=False),
                lambda y, at=at: in_new(y, lambda c: write_target(c, at, patch, whole=False)),
            ),
            link(
                f"removal of {i} of N",
                cleaned_away(v),
                lambda y, at=at: in_new(y, lambda c: remove_target(c, at)),
            ),
        ]
    return sit, links


def _ended(ended: Cascade, new: Cascade, x: Copied, post: State, g: Any, news: int) -> Any:
    """R once V0 has left C: C and the A_j from a plain V0, and N — whose head is V0's own
    now — as the last of V0's snapshot cascades (none if N had no target: `news` = 0)."""
    found = cascades(post.shape)
    if found is None or found[0].head != "V0":
        return z3.BoolVal(False)
    clones, snaps = found
    own = snaps[:-1] if news else snaps
    parts = plain_parts(ended, x.h.a, clones, own, post, g)
    if news:
        last = snaps[-1]
        parts.append(related(new, post, [last.head, *last.targets], g))
    return and_(*parts)


def _in_heads(step: Callable[[Heads], Heads]) -> Callable[[Copied], Copied]:
    """A step of the frozen-heads model, as a step of this one (N untouched)."""
    return lambda y: in_heads(y, step)


def every_shape(bound: int) -> Iterator[Shape5]:
    """V0 with c clones, s snapshots, restored `again` times before, then from each clone, and
    copied anew by `news` snapshots: c + s + again + news < bound."""
    for clones in range(1, bound):
        for snaps in range(1, bound - clones):
            for again in range(bound - clones - snaps):
                for news in range(bound - clones - snaps - again):
                    for r in range(2, clones + 2):
                        yield clones, snaps, again, r, news


def check_copied_refinement(spec: Spec, bound: int) -> Outcome:
    """`unbounded-restore-copied-refines-spec`: each operation of the model agrees with `Spec`
    on every shape of `every_shape(bound)`."""
    g = z3.Const("g", Grain)
    d = z3.Const("d", Data)
    patch = z3.Const("patch", Patch)
    shapes = (_links(spec, shape, g, d, patch) for shape in every_shape(bound))
    out = check_links("unbounded-restore-copied-refines-spec", "the copied model", spec, shapes)
    if out.verdict == "proved":
        out.note = f"V0 restored with c clones, s snapshots, `again`, news: total <= {bound - 1}"
    return out
