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

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import z3

from model.invariant import invariant
from model.logic import Data, Grain, Patch, all_of, and_, eq, implies, not_, or_, select
from model.rules import Spec
from model.rules.reads import HEAD_KIND, KIND_CODES
from model.state import State, initial_state, symbolic_state

from .shapes import Situation
from .steps import Step, apply, enabled, precondition, replaced_images, with_map

TIMEOUT_MS = 20_000


@dataclass
class Failure:
    """Where an obligation failed: the situation, the step and what Z3 found."""

    situation: Situation | None
    step: Step | None
    detail: str


@dataclass
class Outcome:
    """The verdict of one obligation."""

    name: str
    verdict: str  # proved | failed | unknown
    seconds: float
    queries: int
    failure: Failure | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Query:
    """One claim: assumptions and goal over a pre-state, a step and its post-state."""

    assumptions: Any
    goal: Any


# A claim builder: (spec, situation, step, pre, post, g, x) -> Query, or None when it does not
# apply to that step.
Claim = Callable[[Spec, Situation, Step, State, State, Any, Any], Query | None]


@dataclass(frozen=True)
class StepObligation:
    """An obligation checked at every covered shape for the step kinds it concerns."""

    name: str
    kinds: frozenset[str]
    claim: Claim
    summary: str
    over: str = "shapes"  # which situations: "shapes" (the covered ones) or "groups"


def _pre_and_post(spec: Spec, sit: Situation, step: Step, tag: str) -> tuple[State, State, Any]:
    """A symbolic pre-state for the situation, the step applied at grain x, and x."""
    shape = with_map(sit.shape, step) if step.kind == "start" else sit.shape
    pre = symbolic_state(shape, tag, sit.lost)
    x = z3.Const(f"x{tag}", Grain)
    payload = z3.Const(f"data{tag}", Data) if step.whole else z3.Const(f"patch{tag}", Patch)
    post = apply(spec, pre, step, x if step.data else None, payload)
    return pre, post, x


def check_steps(
    spec: Spec, ob: StepObligation, situations: Iterable[Situation], stop_at_first: bool = True
) -> Outcome:
    """Check an obligation at every situation and every enabled step of its kinds."""
    began = time.perf_counter()
    queries = 0
    solver = z3.Solver()
    solver.set("timeout", TIMEOUT_MS)
    unknown: Failure | None = None
    tried: set[str] = set()  # step kinds (and shape families) the obligation was asked about
    satisfiable: set[str] = set()  # ... with premises that hold somewhere (not vacuous)
    offered: set[str] = set()  # step kinds some covered shape enables
    for sit in situations:
        for step in enabled(spec, sit.shape, sit.lost):
            if step.kind not in ob.kinds:
                continue
            offered.add(_vacuity_kind(spec, sit, step))
            try:
                pre, post, x = _pre_and_post(spec, sit, step, "")
            except Exception as err:
                detail = (
                    "the rules never finish this step: their copies recurse without end"
                    if "Recursion" in repr(err)
                    else f"the rules raise {err!r} on this step"
                )
                failure = Failure(sit, step, detail)
                return Outcome(ob.name, "failed", time.perf_counter() - began, queries, failure)
            g = z3.Const("g", Grain)
            query = ob.claim(spec, sit, step, pre, post, g, x)
            if query is None:
                continue
            queries += 1
            for key in (_vacuity_kind(spec, sit, step), f"the {sit.family} shapes"):
                tried.add(key)
                if key not in satisfiable and _premises_hold(solver, query):
                    satisfiable.add(key)
            solver.push()
            solver.add(query.assumptions, not_(query.goal))
            verdict = solver.check()
            if verdict == z3.sat:
                failure = Failure(sit, step, _describe(solver.model(), pre, post, g, x))
                solver.pop()
                out = Outcome(ob.name, "failed", time.perf_counter() - began, queries, failure)
                if stop_at_first:
                    return out
            elif verdict == z3.unknown:
                unknown = Failure(sit, step, f"solver: {solver.reason_unknown()}")
            solver.pop()
    seconds = time.perf_counter() - began
    if expected_kinds(ob.kinds) - offered:  # the rules never enable a step: nothing is proved
        never = ", ".join(sorted(expected_kinds(ob.kinds) - offered))
        detail = f"vacuous: no covered shape enables {never} (a rule never enabled?)"
        return Outcome(ob.name, "failed", seconds, queries, Failure(None, None, detail))
    if tried - satisfiable:  # a step whose premises never hold proves anything: say so
        never = ", ".join(sorted(tried - satisfiable))
        detail = f"vacuous: the premises never hold for {never} (a rule never enabled?)"
        return Outcome(ob.name, "failed", seconds, queries, Failure(None, None, detail))
    if unknown is not None:
        return Outcome(ob.name, "unknown", seconds, queries, unknown)
    return Outcome(ob.name, "proved", seconds, queries)


def _vacuity_kind(spec: Spec, sit: Situation, step: Step) -> str:
    """What a vacuity check counts a step as: its kind, with restores told apart from starts and
    a stopped copy leaving told apart from a completed one."""
    if step.kind == "start" and spec.needs_restore(sit.shape, step.target):
        return "restore"
    if step.kind == "leave":
        return "leave (complete)" if step.complete else "leave (stopped)"
    return step.kind


def expected_kinds(kinds: frozenset[str]) -> set[str]:
    """The vacuity kinds the covered shapes must offer for an obligation about these kinds."""
    out = set(kinds) - {"leave"}
    if "leave" in kinds:
        out |= {"leave (complete)", "leave (stopped)"}
    if "start" in kinds:
        out.add("restore")
    return out


def _premises_hold(solver: z3.Solver, query: Query) -> bool:
    """Vacuity: the assumptions of a query are satisfiable (or Z3 cannot tell)."""
    solver.push()
    solver.add(query.assumptions)
    verdict = solver.check()
    solver.pop()
    return verdict != z3.unsat


def _describe(model: z3.ModelRef, pre: State, post: State, g: Any, x: Any) -> str:
    """Images at grain g before and after, as Z3 found them."""
    same = model.eval(g == x, model_completion=True)
    lines = [f"grain g {'is' if z3.is_true(same) else 'is not'} the grain x the step acts on"]
    for v in pre.shape.volumes:
        bits = []
        if v in post.split:
            bits.append(
                f"split {model.eval(select(pre.split[v], g), True)}"
                f"->{model.eval(select(post.split[v], g), True)}"
            )
        ref = model.eval(select(post.ref[v], g), True) if v in post.ref else "offline"
        bits.append(
            f"phys {model.eval(select(pre.phys[v], g), True)}"
            f"->{model.eval(select(post.phys[v], g), True)}, image should be {ref}"
        )
        lines.append(f"  {v}: " + "; ".join(bits))
    return "\n".join(lines)


# -- the claims -----------------------------------------------------------------------------


def inductive(
    spec: Spec, sit: Situation, step: Step, pre: State, post: State, g: Any, x: Any
) -> Query:
    """Inv and the step (with its precondition) imply Inv afterwards."""
    return Query(
        and_(invariant(spec, pre, g), precondition(spec, pre, step, [g, x])),
        invariant(spec, post, g),
    )


def isolation(
    spec: Spec, sit: Situation, step: Step, pre: State, post: State, g: Any, x: Any
) -> Query:
    """A host write changes no other volume's image (what the volume reads, not just its ghost)."""
    others = [v for v in pre.ref if v != step.target]
    return Query(
        and_(invariant(spec, pre, g), precondition(spec, pre, step, [g, x])),
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
            implies(copy.condition, z3.Or(eq(copy.data_from, HEAD_KIND), eq(copy.data_from, own)))
        )
    return Query(True, all_of(goals))


def bounded_work(
    spec: Spec, sit: Situation, step: Step, pre: State, post: State, g: Any, x: Any
) -> Query:
    """A host write makes at most one copy into each position it can reach: one per direct
    reader of the volume's positions plus one fill (positions(V) + 1), plus after a restore one
    per reader of a frozen head it copies into — never one per target of a long cascade."""
    bound = spec.write_bound(pre.shape, step.target)
    moves = z3.Sum([z3.If(c.condition, 1, 0) for c in post.copies] or [z3.IntVal(0)])
    return Query(True, moves <= bound)


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
        and_(invariant(spec, pre, g), precondition(spec, pre, step, [g, x])),
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
    inv = and_(invariant(spec, pre, g), precondition(spec, pre, step, [g, x]))
    if step.kind == "clean":
        return Query(inv, not_(spec.needs_cleaning(post, t, x)))
    if step.kind == "copy":
        return Query(inv, select(post.split[t], x))
    if step.kind == "leave":
        ready = [not_(spec.needs_cleaning(pre, t, g))]
        if step.complete:
            ready.append(select(pre.split[t], g))
        return Query(
            and_(invariant(spec, pre, g), *ready), spec.may_leave(pre, t, step.complete, g)
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
        and_(invariant(spec, pre, g), precondition(spec, pre, step, [g, x])),
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
    return Query(
        and_(invariant(spec, pre, g), precondition(spec, pre, step, [g, x])), all_of(goals)
    )


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


def check_tight(spec: Spec, situations: Iterable[Situation]) -> Outcome:
    """`bounded-work-tight`: the bound of `bounded-work` is met where it is not trivial — at some
    covered shape, a partial host write with a reader to preserve for and a grain to fill, which
    the invariant and its precondition allow, makes exactly `Spec.write_bound` (≥ 2) copies — so the
    proved bound is the least one there: a bound one looser is never met, and a rule that copies
    less than the bound (no fill, or a reader skipped) is caught."""
    began = time.perf_counter()
    solver = z3.Solver()
    solver.set("timeout", TIMEOUT_MS)
    queries = 0
    for sit in situations:
        for step in enabled(spec, sit.shape, sit.lost):
            if step.kind != "write" or step.whole:
                continue
            pre, post, x = _pre_and_post(spec, sit, step, "")
            g = z3.Const("g", Grain)
            bound = spec.write_bound(pre.shape, step.target)
            if bound < 2:  # met trivially: no copy at all, or a fill alone
                continue
            moves = z3.Sum([z3.If(c.condition, 1, 0) for c in post.copies] or [z3.IntVal(0)])
            queries += 1
            solver.push()
            solver.add(invariant(spec, pre, g), precondition(spec, pre, step, [g, x]))
            solver.add(moves == bound)
            met = solver.check() == z3.sat
            solver.pop()
            if met:
                out = Outcome("bounded-work-tight", "proved", time.perf_counter() - began, queries)
                path = "; ".join(s.label() for s in sit.path) or "no step"
                out.note = f"met by {step.label()} after [{path}] ({sit.family})"
                return out
    return Outcome(
        "bounded-work-tight",
        "failed",
        time.perf_counter() - began,
        queries,
        Failure(None, None, "no covered host write makes as many copies as the bound allows"),
    )


def check_init(spec: Spec, situations: Iterable[Situation]) -> Outcome:
    """Init => Inv: with no map started, every volume's image is its own contents."""
    began = time.perf_counter()
    solver = z3.Solver()
    queries = 0
    for sit in situations:
        if sit.shape.chains or sit.lost:
            continue
        st = initial_state(sit.shape)
        g = z3.Const("g", Grain)
        queries += 1
        solver.push()
        solver.add(not_(invariant(spec, st, g)))
        if solver.check() != z3.unsat:
            solver.pop()
            return Outcome(
                "init",
                "failed",
                time.perf_counter() - began,
                queries,
                Failure(sit, None, "the empty system violates Inv"),
            )
        solver.pop()
    return Outcome("init", "proved", time.perf_counter() - began, queries)
