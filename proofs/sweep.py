"""Checking step obligations: one pass over the covered shapes for all of them at once.

Every (shape, step) pair is built once — the symbolic pre-state and the step applied to it —
and every obligation about that step kind is asked about it: first all together, for every
step of the shape in one query (Z3 is asked for a state that breaks any one of them: `unsat`
proves them all for the shape), then, only where that finds something or cannot tell, pair by
pair and one by one, so a failure is named and described as when each is checked alone
(`proofs/asking.py`). Vacuity is judged per obligation as before: every step kind it concerns
is enabled somewhere, and its premises hold somewhere for every kind and family it was asked
about. The pairs are independent, so `proofs/sweep_parallel.py` deals the shapes out to
worker processes and merges what each found (a failure is reported from the first part that
found one).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import z3

from model.invariant import invariant
from model.logic import Data, Grain, Patch, and_, shared_terms
from model.rules import Spec
from model.state import State, symbolic_state

from .asking import Pair, Tally, ask_pairs, pass_solver, premises_hold
from .shapes import Situation
from .steps import Step, apply, enabled, precondition, shape_before
from .verdicts import Failure, Outcome, Query, StepObligation, rules_fail


def pre_state(sit: Situation, step: Step, tag: str) -> State:
    """A symbolic pre-state for the situation (a start's: with its map defined)."""
    shape = shape_before(sit.shape, step)
    return shared("pre", shape, lambda: symbolic_state(shape, tag, sit.lost), key=(shape, tag))


@functools.cache
def constant(name: str, sort: z3.SortRef) -> Any:
    """A named Z3 constant, built once per process (the same term Z3 would build again)."""
    return z3.Const(name, sort)


def _pre_and_post(spec: Spec, sit: Situation, step: Step, tag: str) -> tuple[State, State, Any]:
    """A symbolic pre-state for the situation, the step applied at grain x, and x."""
    pre = pre_state(sit, step, tag)
    x = constant(f"x{tag}", Grain)
    payload = constant(f"data{tag}", Data) if step.whole else constant(f"patch{tag}", Patch)
    post = apply(spec, pre, step, x if step.data else None, payload)
    return pre, post, x


# The terms the claims about one situation share — its symbolic pre-states, the invariant of
# each state, each step's premise — built once while `tally` works on the situation (None: no
# situation open). A shape's steps share its pre-state (a start's, the shape with the map
# defined), so the invariant before the step is built once per shape, not once per step.
_TERMS: dict[Any, tuple[Any, Any]] | None = None


@contextlib.contextmanager
def situation_terms() -> Iterator[None]:
    """While the claims about one situation (or one pair) are built, the terms they share are
    built once."""
    global _TERMS
    outer, _TERMS = _TERMS, {}
    try:
        with shared_terms():  # and equal terms are built once (model/logic.py)
            yield
    finally:
        _TERMS = outer


def shared(kind: str, of: Any, build: Any, key: Any = None) -> Any:
    """`build()` once per situation for (kind, `of`); `of` is kept alive with the value, so the
    id in the key is not reused by another object meanwhile."""
    if _TERMS is None:
        return build()
    full = (kind, id(of) if key is None else key)
    if full not in _TERMS:
        _TERMS[full] = (of, build())
    return _TERMS[full][1]


def invariant_at(spec: Spec, st: State, g: Any) -> Any:
    """Inv at grain g of a state (built once per situation)."""
    return shared("inv", st, lambda: invariant(spec, st, g), key=(id(st), g.get_id()))


def premise(spec: Spec, pre: State, step: Step, g: Any, x: Any) -> Any:
    """Inv before the step and the step's precondition at g and x (built once per pair)."""
    return shared(
        "premise",
        pre,
        lambda: and_(invariant_at(spec, pre, g), precondition(spec, pre, step, [g, x])),
        key=(id(pre), step, g.get_id(), x.get_id()),
    )


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


def tally(
    spec: Spec,
    obligations: Sequence[StepObligation],
    situations: Iterable[Situation],
    stop_at_first: bool = True,
    per_pair: bool = False,
    query_per_pair: bool = False,
) -> list[Tally]:
    """One pass: every obligation at every situation and every enabled step of its kinds (an
    obligation that failed is asked no more when `stop_at_first`)."""
    out = [Tally() for _ in obligations]
    solver = pass_solver()
    with shared_terms():  # one situation's terms are mostly the next one's too
        for sit in situations:
            with situation_terms():
                _tally_situation(
                    spec, obligations, sit, stop_at_first, out, solver, per_pair, query_per_pair
                )
            if stop_at_first and all(t.failure for t in out):
                break
    return out


def _tally_situation(
    spec: Spec,
    obligations: Sequence[StepObligation],
    sit: Situation,
    stop_at_first: bool,
    out: list[Tally],
    solver: z3.Solver,
    per_pair: bool = False,
    query_per_pair: bool = False,
) -> None:
    """Every obligation at every step enabled at one situation: every pair's claims are asked
    at once, in one query for the whole situation (the pre-state's invariant, which every step
    of the shape shares, is taken in by the solver once); only where that does not prove them
    all, pair by pair. For the benchmark's comparison: `query_per_pair` asks each pair's
    claims as soon as they are built (before stop 26), and `per_pair` also shares terms only
    within each pair (before stop 20)."""
    pairs: list[Pair] = []
    for step in enabled(spec, sit.shape, sit.lost):
        with situation_terms() if per_pair else contextlib.nullcontext():
            pair = _build_pair(spec, obligations, sit, step, stop_at_first, out, solver)
            if pair is not None and (per_pair or query_per_pair):
                ask_pairs(solver, [pair], out, sit, stop_at_first)
            elif pair is not None:
                pairs.append(pair)
    ask_pairs(solver, pairs, out, sit, stop_at_first)


def _build_pair(
    spec: Spec,
    obligations: Sequence[StepObligation],
    sit: Situation,
    step: Step,
    stop_at_first: bool,
    out: list[Tally],
    solver: z3.Solver,
) -> Pair | None:
    """Every obligation's claim about one step at one situation, with vacuity judged (None:
    nothing to ask, or the rules failed outright and that is recorded)."""
    asked = [
        i
        for i, ob in enumerate(obligations)
        if step.kind in ob.kinds and not (stop_at_first and out[i].failure)
    ]
    if not asked:
        return None
    began = time.perf_counter()
    try:
        kind = _vacuity_kind(spec, sit, step)
        pre, post, x = _pre_and_post(spec, sit, step, "")
    except Exception as err:  # a wrong rule that raises fails what it is asked about, named
        for i in asked:
            out[i].failure = out[i].failure or Failure(sit, step, rules_fail(err))
        return None
    for i in asked:
        out[i].offered.add(kind)
    g = constant("g", Grain)
    try:
        queries = [(i, obligations[i].claim(spec, sit, step, pre, post, g, x)) for i in asked]
    except Exception as err:  # e.g. bitmaps kept for a map the rules deleted
        detail = f"the state the rules leave cannot be read: {err!r}"
        for i in asked:
            out[i].failure = out[i].failure or Failure(sit, step, detail)
        return None
    for i, query in queries:
        if query is None:
            continue
        out[i].queries += 1
        for key in (kind, f"the {sit.family} shapes"):
            out[i].tried.add(key)
            if key not in out[i].satisfiable and premises_hold(solver, query):
                out[i].satisfiable.add(key)
    asking = [(i, q) for i, q in queries if q is not None]
    return Pair(step, asked, asking, (pre, post, g, x), time.perf_counter() - began)


def _never_offered(kinds: set[str]) -> str:
    """Vacuity: the covered shapes never enable these step kinds."""
    return f"vacuous: no covered shape enables {', '.join(sorted(kinds))} (a rule never enabled?)"


def _never_holds(keys: set[str]) -> str:
    """Vacuity: the premises never hold for these step kinds (or families)."""
    return f"vacuous: the premises never hold for {', '.join(sorted(keys))} (a rule never enabled?)"


def verdict(ob: StepObligation, t: Tally) -> Outcome:
    """The obligation's outcome from its tally: failed, vacuous, unknown or proved."""
    if t.failure is not None:
        return Outcome(ob.name, "failed", t.seconds, t.queries, t.failure)
    if expected_kinds(ob.kinds) - t.offered:  # the rules never enable a step: nothing is proved
        detail = _never_offered(expected_kinds(ob.kinds) - t.offered)
        return Outcome(ob.name, "failed", t.seconds, t.queries, Failure(None, None, detail))
    if t.tried - t.satisfiable:  # a step whose premises never hold proves anything: say so
        detail = _never_holds(t.tried - t.satisfiable)
        return Outcome(ob.name, "failed", t.seconds, t.queries, Failure(None, None, detail))
    if t.unknown is not None:
        return Outcome(ob.name, "unknown", t.seconds, t.queries, t.unknown)
    return Outcome(ob.name, "proved", t.seconds, t.queries)


def never_enabled(
    spec: Spec, ob: StepObligation, situations: Iterable[Situation]
) -> Outcome | None:
    """Vacuity first, before any claim is built: a failed outcome if some step kind the
    obligation concerns is enabled at no covered shape, or only where its premise (Inv and the
    step's precondition) cannot hold; else None, as soon as every kind is seen to be enabled.
    A rule that is never enabled fails as it would after the whole pass (`verdict`), but
    without building the claims at every shape first."""
    began = time.perf_counter()
    expected = expected_kinds(ob.kinds)
    offered: set[str] = set()
    holds: set[str] = set()
    solver = pass_solver()
    g, x = constant("g", Grain), constant("x", Grain)
    for sit in situations:  # an error while the shapes are found propagates, as in the pass
        try:
            with situation_terms():
                for step in enabled(spec, sit.shape, sit.lost):
                    kind = _vacuity_kind(spec, sit, step) if step.kind in ob.kinds else None
                    if kind is None or kind in holds:
                        continue
                    offered.add(kind)
                    pre = pre_state(sit, step, "")
                    if premises_hold(solver, Query(premise(spec, pre, step, g, x), True)):
                        holds.add(kind)
        except Exception:  # a rule that raises at a step: the pass names it, with its shape
            return None
        if expected <= holds:
            return None
    detail = (
        _never_offered(expected - offered) if expected - offered else _never_holds(expected - holds)
    )
    return Outcome(ob.name, "failed", time.perf_counter() - began, 0, Failure(None, None, detail))


def check_steps(
    spec: Spec, ob: StepObligation, situations: Iterable[Situation], stop_at_first: bool = True
) -> Outcome:
    """Check one obligation at every situation and every enabled step of its kinds (a rule
    never enabled fails first, `never_enabled`)."""
    first, then = itertools.tee(situations)  # found lazily: a failure stops the search early
    vacuous = never_enabled(spec, ob, first) if stop_at_first else None
    return vacuous or verdict(ob, tally(spec, [ob], then, stop_at_first)[0])
