"""Whole-state claims at every covered shape: `init`, `invariant-strong`, `bounded-work-tight`.

Unlike the step obligations (`proofs/obligations.py`), each is one query per shape (or per
host write) and its own loop: the empty system satisfies Inv; Inv implies that every image is
read (the safety property stated apart from the invariant), and holds somewhere; and the bound
on a write's copies is met somewhere it is not trivial.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import z3

from model.invariant import incremental_agreement, invariant
from model.logic import Grain, all_of, eq, not_, select
from model.rules import Spec
from model.state import State, initial_state, symbolic_state

from .obligations import copies_made
from .shapes import Situation
from .steps import enabled, precondition
from .sweep import _pre_and_post
from .verdicts import TIMEOUT_MS, Failure, Outcome


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
            if bound < 2 or len(post.copies) < bound:  # met trivially, or it cannot be met
                continue
            moves = copies_made(post.copies)  # counted as `bounded-work` counts them
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


# -- the invariant is strong enough ------------------------------------------------------------


def reads_images(spec: Spec, st: State, g: Any) -> Any:
    """The safety property, stated apart from the invariant: every volume that has a
    point-in-time image returns it to a host read at g."""
    return all_of(eq(spec.image(st, v, g), select(st.ref[v], g)) for v in st.ref)


def check_strong(spec: Spec, situations: Iterable[Situation], inv: Any = invariant) -> Outcome:
    """Inv => every image is read, at every covered shape: so an invariant weakened until it
    says nothing about some volume (still inductive, proving nothing about it) fails here; and
    Inv holds somewhere (vacuity: an invariant that is never true implies anything)."""
    began = time.perf_counter()
    solver = z3.Solver()
    solver.set("timeout", TIMEOUT_MS)
    queries, holds = 0, False
    g = z3.Const("g", Grain)
    for sit in situations:
        st = symbolic_state(sit.shape, lost=sit.lost)
        solver.push()
        solver.add(inv(spec, st, g))
        holds = holds or solver.check() != z3.unsat
        solver.add(not_(reads_images(spec, st, g)))
        answer = solver.check()
        solver.pop()
        queries += 2
        if answer != z3.unsat:
            said = "a state Inv allows reads a wrong image" if answer == z3.sat else "unknown"
            seconds = time.perf_counter() - began
            return Outcome("invariant-strong", "failed", seconds, queries, Failure(sit, None, said))
    if not holds:
        said = "vacuous: Inv holds at no covered shape"
        seconds = time.perf_counter() - began
        return Outcome("invariant-strong", "failed", seconds, queries, Failure(None, None, said))
    return Outcome("invariant-strong", "proved", time.perf_counter() - began, queries)


def weakened_invariant(spec: Spec, st: State, g: Any) -> Any:
    """The control's wrong invariant: only the incremental agreement, no refinement."""
    return incremental_agreement(st, g)
