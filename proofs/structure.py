"""Structural obligations: claims about the shape a structural step leaves, with no solver.

Each claim is a judge over (situation, step, shape after the step) that names what is wrong,
run by one loop (`check_structure`) over every covered situation and every structural step of
the kinds it concerns. A claim may also say what it must see at least once (`witness`), so a
rule that never produces the case fails as vacuous instead of proving nothing.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from model.rules import Spec
from model.shape import Shape

from .shapes import Situation, after
from .steps import Step, enabled, with_map
from .verdicts import Failure, Outcome

Judge = Callable[[Spec, Situation, Step, Shape], "str | None"]
Witness = Callable[[Spec, Situation, Step, Shape], bool]


@dataclass(frozen=True)
class StructuralCheck:
    """A claim about the shape after each structural step of some kinds."""

    name: str
    kinds: frozenset[str] | None  # None: every structural step
    judge: Judge
    witness: Witness | None = None  # what must happen at least once (None: every step asked)
    absent: str = ""  # the vacuity failure when nothing was witnessed ("": no vacuity check)
    over: str = "shapes"  # which situations: "shapes" (the covered ones) or "groups"


def check_structure(spec: Spec, check: StructuralCheck, situations: Iterable[Situation]) -> Outcome:
    """Judge the shape after every structural step of the check's kinds at every situation."""
    began = time.perf_counter()
    queries = witnessed = 0
    for sit in situations:
        for step in enabled(spec, sit.shape, sit.lost):
            if step.data or (check.kinds is not None and step.kind not in check.kinds):
                continue
            queries += 1
            shape = after(spec, sit, step).shape
            witnessed += check.witness is None or check.witness(spec, sit, step, shape)
            problem = check.judge(spec, sit, step, shape)
            if problem:
                failure = Failure(sit, step, problem)
                return Outcome(check.name, "failed", time.perf_counter() - began, queries, failure)
    seconds = time.perf_counter() - began
    if check.absent and not witnessed:
        failure = Failure(None, None, f"vacuous: {check.absent}")
        return Outcome(check.name, "failed", seconds, queries, failure)
    return Outcome(check.name, "proved", seconds, queries)


# -- group-order --------------------------------------------------------------------------


def group_order(spec: Spec, sit: Situation, step: Step, shape: Shape) -> str | None:
    """After a group start, of every two members that copy one source and share a cascade, the
    one with the higher copy rate sits nearer the source; with equal rates, the one created
    later (the product: "the fastest nearest its source")."""
    for a, b in itertools.combinations(step.members, 2):
        pa, pb = shape.position(a), shape.position(b)
        ma, mb = sit.shape.map_of(a), sit.shape.map_of(b)
        if ma.source != mb.source or pa is None or pb is None or pa[0] != pb[0]:
            continue
        first = a if (ma.copy_rate, ma.order) > (mb.copy_rate, mb.order) else b
        if shape.position(first)[1] > min(pa[1], pb[1]):  # type: ignore[index]
            return (
                f"{a} (rate {ma.copy_rate}) and {b} (rate {mb.copy_rate}) from {ma.source}: "
                f"{first} should sit nearer the source; cascade {shape.chains[pa[0]]}"
            )
    return None


# -- restore-detected ---------------------------------------------------------------------


def freezes_a_head(spec: Spec, sit: Situation, step: Step, shape: Shape) -> bool:
    """The start froze a head of its target: targets still read the volume it overwrites."""
    return any(shape.is_frozen(h) for h in shape.heads_of(step.target))


def _freezes_its_copies(shape: Shape, volume: str) -> bool:
    """A frozen head of the volume is read by a target of a map that copies from it."""
    maps = dict(shape.maps)
    return any(
        shape.is_frozen(h) and any(maps[t].source == volume for t in shape.chains[h[0]].targets)
        for h in shape.heads_of(volume)
    )


def restore_detected(spec: Spec, sit: Situation, step: Step, shape: Shape) -> str | None:
    """A start that freezes a head of its target read by that volume's own copies needs the
    restore flag (nothing overwrites what its copies read without it); and the flag is asked
    only of a start onto the source of an active map — the product's definition of a restore
    (product.md §4), which also covers a source whose targets no longer read it (a mixed
    cascade its clone left). A frozen head read only by other volumes' copies needs no flag:
    a target whose source left the cascade above it reads through the next volume up, which
    the product does not count as that volume's copy (3 volumes: V1->V0, V0->V2, V0 leaves,
    then a start onto V1 freezes the head V2 reads)."""
    before = with_map(sit.shape, step)
    flagged = spec.needs_restore(before, step.target)
    if _freezes_its_copies(shape, step.target) and not flagged:
        return f"{step.label()} freezes a head its copies read without needing restore"
    sources = {before.map_of(t).source for t in before.active()}
    if flagged and step.target not in sources:
        return f"{step.label()} needs restore, but no active map copies from {step.target}"
    return None


# -- shape-well-formed --------------------------------------------------------------------


def well_formed(shape: Shape) -> str | None:
    """What is wrong with a shape's structure, if anything (None: nothing)."""
    seen: set[str] = set()
    for c in shape.chains:
        if not c.targets:
            return f"a cascade headed by {c.head} has no target"
        if c.kind not in ("clone", "snapshot", "mixed") or c.head_mode not in ("physical", "image"):
            return f"a cascade of kind {c.kind!r}, head mode {c.head_mode!r}"
        if c.head_mode == "image" and shape.position(c.head) is None:
            return f"{c.head} heads a cascade as an image but has no position"
        for t in c.targets:
            if t in seen:
                return f"{t} holds two positions"
            seen.add(t)
    maps = dict(shape.maps)
    if missing := seen - set(maps):
        return f"positions without a map: {sorted(missing)}"
    if stray := set(shape.stopping) - seen:
        return f"stopping but in no cascade: {sorted(stray)}"
    return None


def step_well_formed(spec: Spec, sit: Situation, step: Step, shape: Shape) -> str | None:
    """The shape is well formed and the step did what it says to its target: a stop marks it
    stopping; a leave, split or forced stop takes it out of its cascade; a forced delete
    removes its map."""
    t = step.target
    if step.kind == "revive" and t in dict(shape.maps):
        return f"{t}'s map is still there after its forced delete"
    if step.kind == "split" and t in shape.stopping:
        return f"{t} is still stopping after its split"
    if step.kind in ("leave", "force", "split") and shape.position(t) is not None:
        return f"{t} still holds a position after its {step.kind}"
    if step.kind == "stop" and t not in shape.stopping:
        return f"{t} is not stopping after its stop"
    kept = (set(sit.shape.stopping) - {t}) & set(shape.active())
    if lost := kept - set(shape.stopping):  # no step forgets another map's stop
        return f"{step.label()}: {sorted(lost)} no longer stopping"
    if step.kind == "start" and (opened := _second_cascade(sit.shape, shape, t)):
        return opened
    return well_formed(shape)


def _live(shape: Shape, head: str, kind: str, mode: str) -> int:
    """How many cascades not frozen the volume heads with that kind and head mode."""
    return sum(
        1
        for ci, c in enumerate(shape.chains)
        if (c.head, c.kind, c.head_mode) == (head, kind, mode) and not shape.is_frozen((ci, 0))
    )


def _second_cascade(before: Shape, after: Shape, target: str) -> str | None:
    """Join rule (S3): a new target joins the live cascade of its kind that its source heads
    presenting the same thing (its grains, or its image while it is a target) — it opens no
    second one. (Two such cascades may still meet later: a restored volume that headed a new
    cascade as an image heads it physically once its restore completes, beside its old one;
    the specification and the reference engine both keep them apart, and each head's readers
    are preserved on every write.)"""
    node = after.position(target)
    if node is None:
        return None
    c = after.chains[node[0]]
    if _live(before, c.head, c.kind, c.head_mode) and _live(after, c.head, c.kind, c.head_mode) > (
        _live(before, c.head, c.kind, c.head_mode)
    ):
        return f"the start of {target} opened a second live {c.kind} cascade from {c.head}"
    return None


STRUCTURAL_CHECKS: tuple[StructuralCheck, ...] = (
    StructuralCheck(
        "group-order", frozenset({"group"}), group_order, absent="no group start", over="groups"
    ),
    StructuralCheck(
        "restore-detected",
        frozenset({"start"}),
        restore_detected,
        witness=freezes_a_head,
        absent="no covered start is a restore",
    ),
    StructuralCheck("shape-well-formed", None, step_well_formed),
)
