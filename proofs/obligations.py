"""Proof obligations over one step: for every covered shape and every step enabled there.

Each obligation is a claim `assumptions => goal` about a symbolic pre-state (every array a
fresh Z3 constant over the uninterpreted Grain and Data sorts), the step's effect on it, and
one arbitrary grain `g` (the step itself acts at another arbitrary grain `x`, which may equal
`g`). Every rule acts grain by grain, so a claim at an arbitrary grain is a claim at all of
them: the proof covers every volume size and every content. Z3 is asked for a state that
satisfies the assumptions and violates the goal; `unsat` proves the claim for that shape and
step, a model is a counterexample.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import z3

from model.logic import all_of, and_, eq, implies, ite, not_, or_, select, symbolic
from model.rules import Spec
from model.rules.reads import HEAD_KIND, KIND_CODES
from model.state import Copy, State

from .shapes import Situation
from .steps import Step, replaced_images
from .sweep import invariant_at, premise
from .verdicts import Query, StepObligation

# -- the claims -----------------------------------------------------------------------------


def inductive(
    spec: Spec, sit: Situation, step: Step, pre: State, post: State, g: Any, x: Any
) -> Query:
    """Inv and the step (with its precondition) imply Inv afterwards."""
    return Query(
        premise(spec, pre, step, g, x),
        invariant_at(spec, post, g),
    )


def isolation(
    spec: Spec, sit: Situation, step: Step, pre: State, post: State, g: Any, x: Any
) -> Query:
    """A host write changes no other volume's image (what the volume reads, not just its ghost)."""
    others = [v for v in pre.ref if v != step.target]
    return Query(
        premise(spec, pre, step, g, x),
        all_of(eq(spec.image(post, v, g), spec.image(pre, v, g)) for v in others),
    )


def type_separation(
    spec: Spec, sit: Situation, step: Step, pre: State, post: State, g: Any, x: Any
) -> Query | None:
    """No grain copy moves data from a position of the other type into a target."""
    if not post.copies:
        return None
    goals = []
    for copy in post.copies:
        own = KIND_CODES[post.shape.map_of(copy.target).type]
        goals.append(
            implies(copy.condition, or_(eq(copy.data_from, HEAD_KIND), eq(copy.data_from, own)))
        )
    return Query(True, all_of(goals))


def bounded_work(
    spec: Spec, sit: Situation, step: Step, pre: State, post: State, g: Any, x: Any
) -> Query:
    """A host write makes at most one copy into each position it can reach: one per direct
    reader of the volume's positions plus one fill (positions(V) + 1), plus after a restore one
    per reader of a frozen head it copies into — never one per target of a long cascade."""
    bound = spec.write_bound(pre.shape, step.target)
    return Query(True, copies_made(post.copies) <= bound)


def copies_made(copies: Iterable[Copy]) -> Any:
    """How many of these copies happen: a count over their conditions (plain where they are
    plain; the symbolic ones summed by one API call, not z3.Sum's per-term coercion)."""
    counted = [ite(c.condition, 1, 0) for c in copies]
    terms = [t for t in counted if symbolic(t)]
    plain = sum(t for t in counted if not symbolic(t))
    if not terms:
        return plain
    ctx = terms[0].ctx
    array, n = z3.z3._to_ast_array(terms)
    total = z3.ArithRef(z3.Z3_mk_add(ctx.ref(), n, array), ctx) if n > 1 else terms[0]
    return total + plain if plain else total


def cleaning_minimal(
    spec: Spec, sit: Situation, step: Step, pre: State, post: State, g: Any, x: Any
) -> Query:
    """Cleaning copies a grain into a reader only if the reader would read it from somewhere
    else once the position left without cleaning."""
    gone = spec.leave(pre, step.target, complete=True)
    readers = {pre.shape.volume_at(node) for node, _ in spec.clean_targets(pre, step.target, x)}
    goals = []
    for copy in post.copies:
        if copy.target not in readers:
            continue  # a restore's preservation copy made on the way (see copy-into rule)
        before = spec.resolve(pre, pre.shape.position(copy.target), x)  # type: ignore[arg-type]
        later = spec.resolve(gone, gone.shape.position(copy.target), x)  # type: ignore[arg-type]
        goals.append(implies(copy.condition, not_(eq(before.holder, later.holder))))
    return Query(True, all_of(goals))


def completion(
    spec: Spec, sit: Situation, step: Step, pre: State, post: State, g: Any, x: Any
) -> Query | None:
    """A completed copy that leaves (or is split, or force-stopped once complete) still reads
    its image: the point-in-time copy it completed is kept."""
    if step.kind in ("leave", "force") and not step.complete:
        return None
    t = step.target
    return Query(
        premise(spec, pre, step, g, x),
        eq(spec.image(post, t, g), select(post.ref[t], g)),
    )


def progress(
    spec: Spec, sit: Situation, step: Step, pre: State, post: State, g: Any, x: Any
) -> Query | None:
    """Stops and copies end: a grain of cleaning discharges that grain, a grain of background
    copy lands in the target, and once nothing needs cleaning (and, to complete, the target
    holds the grain) the position may leave — so no rule can hold a map in stopping or
    copying for ever while every image stays right."""
    t = step.target
    inv = premise(spec, pre, step, g, x)
    if step.kind == "clean":
        return Query(inv, not_(spec.needs_cleaning(post, t, x)))
    if step.kind == "copy":
        return Query(inv, select(post.split[t], x))
    if step.kind == "leave":
        ready = [not_(spec.needs_cleaning(pre, t, g))]
        if step.complete:
            ready.append(select(pre.split[t], g))
        return Query(
            and_(invariant_at(spec, pre, g), *ready), spec.may_leave(pre, t, step.complete, g)
        )
    return None


ALLOWED_KINDS = {
    "write": ("cow", "fill", "clean"),
    "copy": ("background", "clean"),
    "clean": ("clean",),
}


def copy_kinds(
    spec: Spec, sit: Situation, step: Step, pre: State, post: State, g: Any, x: Any
) -> Query | None:
    """Every copy a step makes carries the vocabulary's name for it (implementations report
    copies by these names, and the step check compares them): a write makes copy-on-write
    copies into other volumes, a fill into itself, and a restore's preservation copies (clean);
    a background copy lands in its own target; cleaning makes clean copies."""
    if not post.copies:
        return None
    goals = []
    for c in post.copies:
        ok = c.kind in ALLOWED_KINDS[step.kind]
        if c.kind == "fill" or c.kind == "background":
            ok = ok and c.target == step.target
        if c.kind == "cow":
            ok = ok and c.target != step.target
        if not ok:
            goals.append(not_(c.condition))
    return Query(True, all_of(goals))


def whole_write_no_fill(
    spec: Spec, sit: Situation, step: Step, pre: State, post: State, g: Any, x: Any
) -> Query | None:
    """A write of a whole grain fills nothing: no copy-on-write or fill lands in the written
    volume (the old grain would be overwritten at once). A restore ring's preservation copy may
    still land there (`docs/proofs.md`: a known wasted copy, not a wrong one)."""
    if not step.whole:
        return None
    own = [c for c in post.copies if c.target == step.target and c.kind != "clean"]
    return Query(
        premise(spec, pre, step, g, x),
        all_of(not_(c.condition) for c in own),
    )


def incremental_records(
    spec: Spec, sit: Situation, step: Step, pre: State, post: State, g: Any, x: Any
) -> Query | None:
    """An incremental map's record of change is exact, grain by grain: its own start clears
    it; a step that replaces its source's image (by the point-in-time rules, not the cascade
    rules) marks every grain; a host write to its source or target marks the written grain;
    nothing else changes it. Too little recorded copies too little at the next restart; too
    much misreports `difference` and copies what did not change."""
    if not post.diff:
        return None
    replaced = replaced_images(pre, step)
    goals = []
    for t, after in post.diff.items():
        source = post.shape.map_of(t).source
        if step.kind == "start" and t == step.target:
            want: Any = False
        elif source in replaced:
            want = True
        elif step.kind == "write" and step.target in (source, t):
            want = or_(select(pre.diff[t], g), eq(g, x))
        else:
            want = select(pre.diff[t], g)
        goals.append(eq(select(after, g), want))
    return Query(premise(spec, pre, step, g, x), all_of(goals))


WRITE = frozenset({"write"})
STEP_OBLIGATIONS: tuple[StepObligation, ...] = (
    StepObligation(
        "write-keeps-images",
        WRITE,
        inductive,
        "Inv is preserved by host writes (whole and partial grains) to heads, middle "
        "and last targets, and volumes in several cascades",
    ),
    StepObligation(
        "copy-keeps-images",
        frozenset({"copy"}),
        inductive,
        "Inv is preserved by one grain of background copy",
    ),
    StepObligation(
        "insertion-keeps-images",
        frozenset({"start"}),
        inductive,
        "Inv is preserved by a start: the new target goes after its source "
        "(also restores and incremental restarts)",
    ),
    StepObligation(
        "cleaning-keeps-images",
        frozenset({"clean", "leave"}),
        inductive,
        "Inv is preserved by a grain of cleaning and by a position leaving once "
        "nothing needs cleaning (stop and completion)",
    ),
    StepObligation(
        "stop-keeps-images",
        frozenset({"stop", "force", "split", "prepare", "revive"}),
        inductive,
        "Inv is preserved by stop, forced stop, split, prepare and revive",
    ),
    StepObligation(
        "completion-keeps-image",
        frozenset({"leave", "split", "force"}),
        completion,
        "a copy that completes and leaves its cascade (or is split) reads its image still",
    ),
    StepObligation(
        "group-start-keeps-images",
        frozenset({"group"}),
        inductive,
        "Inv is preserved by a group start: every member takes its source's image at one "
        "instant, whatever the order the members join in",
        over="groups",
    ),
    StepObligation(
        "progress",
        frozenset({"clean", "copy", "leave"}),
        progress,
        "a grain of cleaning discharges it, a grain of background copy lands, and a "
        "position with nothing left to clean (and every grain, to complete) may leave",
    ),
    StepObligation(
        "copy-kinds",
        frozenset({"write", "copy", "clean"}),
        copy_kinds,
        "every copy carries the vocabulary's name for the rule that makes it",
    ),
    StepObligation(
        "whole-write-no-fill",
        WRITE,
        whole_write_no_fill,
        "a whole-grain write copies nothing into the written volume",
    ),
    StepObligation(
        "write-isolation", WRITE, isolation, "a host write to V changes no other volume's image"
    ),
    StepObligation(
        "type-separation",
        frozenset({"write", "copy", "clean"}),
        type_separation,
        "no grain copy moves data from a position of the other type",
    ),
    StepObligation(
        "bounded-work",
        WRITE,
        bounded_work,
        "a host write copies at most once per position it reaches "
        "(positions(V) + 1 without restores)",
    ),
    StepObligation(
        "incremental-records",
        frozenset(
            {"write", "copy", "clean", "leave", "start", "stop", "force", "split", "prepare"}
            | {"revive"}
        ),
        incremental_records,
        "an incremental map's record of change marks exactly the grains written to its "
        "source or target since its start, and every grain once its source's image is replaced",
    ),
    StepObligation(
        "cleaning-minimal",
        frozenset({"clean"}),
        cleaning_minimal,
        "cleaning copies only grains whose reader would otherwise read elsewhere",
    ),
)
