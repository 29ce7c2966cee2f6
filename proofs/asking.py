"""What the pass asks Z3, and what it found: the pass's solver, the claims of a situation's
pairs asked all at once (one query per situation, so the solver takes in the pre-state's
invariant, which every step of the shape shares, once), then pair by pair and one by one only
where that does not prove them all, so a failure is named and described exactly as when each
obligation is checked alone; and the tally of each obligation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import z3

from model.logic import and_, not_, or_, select, symbolic
from model.state import State

from .shapes import Situation
from .steps import Step
from .verdicts import TIMEOUT_MS, Failure, Query


def pass_solver() -> z3.Solver:
    """The solver of a pass: Z3's, with the timeout, and relevancy propagation off (every atom
    goes to the theories: a search heuristic, not a change of logic — answers are the same, and
    on these small quantifier-free queries it is about 8 % faster, measured on every 40th
    three-volume shape, alternated five times: 10.70 s against 9.83 s on average)."""
    solver = z3.Solver()
    solver.set("timeout", TIMEOUT_MS)
    solver.set("smt.relevancy", 0)
    return solver


def assert_(solver: z3.Solver, term: Any) -> None:
    """Add a Boolean term to the solver by the direct API call (`Solver.add` casts every term
    to Bool again, building sort wrappers: most of its cost in this pass); a plain truth value
    goes the usual way."""
    if symbolic(term):
        z3.Z3_solver_assert(solver.ctx.ref(), solver.solver, term.as_ast())
    else:
        solver.add(term)


def premises_hold(solver: z3.Solver, query: Query) -> bool:
    """Vacuity: the assumptions of a query are satisfiable (or Z3 cannot tell)."""
    solver.push()
    assert_(solver, query.assumptions)
    verdict = solver.check()
    solver.pop()
    return verdict != z3.unsat


def describe(model: z3.ModelRef, pre: State, post: State, g: Any, x: Any) -> str:
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


@dataclass
class Tally:
    """What the pass found for one obligation so far."""

    queries: int = 0
    seconds: float = 0.0
    offered: set[str] = field(default_factory=set)  # step kinds some covered shape enables
    tried: set[str] = field(default_factory=set)  # kinds and families it was asked about
    satisfiable: set[str] = field(default_factory=set)  # ... whose premises hold somewhere
    failure: Failure | None = None
    unknown: Failure | None = None

    def merge(self, other: Tally) -> None:
        """Fold in a later part of the pass (an earlier failure stays the one reported)."""
        self.queries += other.queries
        self.seconds += other.seconds
        self.offered |= other.offered
        self.tried |= other.tried
        self.satisfiable |= other.satisfiable
        self.failure = self.failure or other.failure
        self.unknown = self.unknown or other.unknown


@dataclass
class Pair:
    """One (shape, step) pair's claims, built and waiting to be asked."""

    step: Step
    asked: list[int]  # the obligations asked about it (their share of the time)
    queries: list[tuple[int, Query]]  # ... and the claims that are not trivially true
    states: tuple[State, State, Any, Any]  # pre, post, g, x: to describe a failure
    seconds: float  # spent building it


def ask_pairs(
    solver: z3.Solver,
    pairs: list[Pair],
    out: list[Tally],
    sit: Situation,
    stop_at_first: bool,
) -> None:
    """All the pairs' claims at once; pair by pair, and then one by one, only where that does
    not prove them all (in step order, so the failure reported is the first pair's, and an
    obligation that failed is asked no more when `stop_at_first`). A single pair goes
    straight to `_ask`, which asks its claims together itself."""
    began = time.perf_counter()
    claims = [(i, q) for pair in pairs for i, q in pair.queries]
    proved = len(pairs) > 1 and len(claims) > 1 and _all_hold(solver, claims)
    for pair in pairs:
        if not proved:
            left = [(i, q) for i, q in pair.queries if not (stop_at_first and out[i].failure)]
            _ask(solver, left, out, sit, pair.step, pair.states)
    spent = time.perf_counter() - began
    for pair in pairs:
        share = (pair.seconds + spent / len(pairs)) / len(pair.asked)
        for i in pair.asked:
            out[i].seconds += share


def _all_hold(solver: z3.Solver, claims: list[tuple[int, Query]]) -> bool:
    """Is there no state that breaks any of the claims (`unsat`)?"""
    solver.push()
    assert_(solver, or_(*(and_(q.assumptions, not_(q.goal)) for _, q in claims)))
    proved = solver.check() == z3.unsat
    solver.pop()
    return proved


def _ask(
    solver: z3.Solver,
    queries: list[tuple[int, Query]],
    out: list[Tally],
    sit: Situation,
    step: Step,
    states: tuple[State, State, Any, Any],
) -> None:
    """All the pair's claims at once; one by one only where that does not prove them all."""
    if not queries:
        return
    if len(queries) > 1 and _all_hold(solver, queries):
        return
    for i, query in queries:
        solver.push()
        solver.add(query.assumptions, not_(query.goal))
        answer = solver.check()
        if answer == z3.sat:
            found = Failure(sit, step, describe(solver.model(), *states))
            out[i].failure = out[i].failure or found
        elif answer == z3.unknown:
            out[i].unknown = out[i].unknown or Failure(
                sit, step, f"solver: {solver.reason_unknown()}"
            )
        solver.pop()
