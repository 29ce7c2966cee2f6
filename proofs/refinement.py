"""The unbounded model is `Spec`'s single cascade: a refinement check at every length up to K.

`proofs/unbounded.py` proves its claims for cascades of every length, but about its own
Int-indexed model of one cascade, not about `Spec`. This module ties the two together: for a
cascade of n snapshots of one source (n = 1..K, the `snapshots-of-one-source` family), the
relation R maps `Spec`'s state at one arbitrary grain g onto the model's positions 0..n
(position i is the i-th target from the head), and each operation of the model is shown to
step R-related states to R-related states:

    R(c, st) and Inv(st)  =>  R(model_step(c), apply(Spec, st, the same operation))

R says: the same length; the head's same physical value (the model's head image is its
contents); at every target position the same split bit, where it holds the grain the same
physical value, and the same abstract image. The operations are a head write, a
write to every target m, insertion of a new target, and removal of every position m after a
stop and one grain of cleaning. So a rule of `Spec` that differs from the model on one
cascade of any length up to K fails here (`cow-wrong-neighbour` is its control), and the
unbounded claims hold of `Spec` on those cascades — including the model's target write, which
copies the ghost image where `Spec` copies what the target reads: equal under Inv.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import z3

from model.invariant import invariant
from model.logic import Data, Grain, select
from model.rules import Spec
from model.shape import Shape
from model.state import State, symbolic_state

from .shapes import Situation, chain_families
from .steps import Step, apply, with_map
from .unbounded import Cascade, fresh, head_write, insert_first, remove_cleaned, target_write
from .verdicts import Failure, Outcome

TIMEOUT_MS = 20_000


def _snapshots(spec: Spec, n: int) -> Situation:
    """n snapshots of V0 in one cascade, and one spare volume."""
    return next(s for s in chain_families(spec, n) if s.family == f"snapshots-of-one-source-{n}")


def related(c: Cascade, st: State, order: list[str], g: Any) -> Any:
    """R: `order` lists the head and then the targets from the head; position i is order[i]."""
    parts = [c.n == len(order) - 1, c.phys[0] == select(st.phys[order[0]], g)]
    for i, v in enumerate(order[1:], start=1):
        held = select(st.split[v], g)
        parts += [
            c.split[i] == held,
            z3.Implies(held, c.phys[i] == select(st.phys[v], g)),
            c.ref[i] == select(st.ref[v], g),
        ]
    return z3.And(*parts)


def _order(shape: Shape) -> list[str]:
    """The one cascade's head, then its targets from the head: the model's positions 0..n."""
    chain = shape.chains[0]
    return [chain.head, *chain.targets]


def _cases(sit: Situation) -> list[tuple[str, Step | list[Step], Callable[..., Cascade]]]:
    """Each operation of the model, as `Spec` steps and as the model's own step."""
    order = _order(sit.shape)
    n = len(order) - 1
    spare = next(v for v in sit.shape.volumes if v not in order)
    cases: list[tuple[str, Step | list[Step], Callable[..., Cascade]]] = [
        ("head write", Step("write", order[0]), lambda c, d: head_write(c, d)),
        (
            "insertion",
            Step("start", spare, order[0], map_type="snapshot"),
            lambda c, d: insert_first(c),
        ),
    ]
    for m in range(1, n + 1):
        cases.append(
            (
                f"write to target {m}",
                Step("write", order[m]),
                lambda c, d, m=m: target_write(c, z3.IntVal(m), d),
            )
        )
        if n >= 2:
            v = order[m]
            cases.append(
                (
                    f"removal of target {m}",
                    [Step("stop", v), Step("clean", v), Step("leave", v, complete=False)],
                    lambda c, d, m=m: remove_cleaned(c, z3.IntVal(m)),
                )
            )
    return cases


def _spec_side(
    spec: Spec, sit: Situation, steps: Step | list[Step], g: Any, d: Any
) -> tuple[State, State]:
    """A symbolic state of the situation, and the state after `Spec` takes the steps."""
    first = steps if isinstance(steps, Step) else steps[0]
    shape = with_map(sit.shape, first) if first.kind == "start" else sit.shape
    st = symbolic_state(shape, "", sit.lost)
    pre = st
    for step in [steps] if isinstance(steps, Step) else steps:
        st = apply(spec, st, step, g if step.data else None, d)
    return pre, st


def check_refinement(spec: Spec, bound: int) -> Outcome:
    """`unbounded-refines-spec`: every operation of the unbounded model agrees with `Spec` on
    one cascade of every length 1..bound (see the module text)."""
    began = time.perf_counter()
    solver = z3.Solver()
    solver.set("timeout", TIMEOUT_MS)
    queries = 0
    g = z3.Const("g", Grain)
    d = z3.Const("d", Data)
    for n in range(1, bound + 1):
        sit = _snapshots(spec, n)
        order = _order(sit.shape)
        for label, steps, model_step in _cases(sit):
            pre, post = _spec_side(spec, sit, steps, g, d)
            c = fresh(f"_{n}")
            queries += 1
            solver.push()
            solver.add(related(c, pre, order, g), invariant(spec, pre, g))
            if label == "head write" and solver.check() == z3.unsat:  # vacuity, once per n
                solver.pop()
                detail = f"vacuous: no state of {n} targets is related to the model"
                return Outcome(
                    "unbounded-refines-spec",
                    "failed",
                    time.perf_counter() - began,
                    queries,
                    Failure(None, None, detail),
                )
            solver.add(z3.Not(related(model_step(c, d), post, _order(post.shape), g)))
            verdict = solver.check()
            solver.pop()
            if verdict != z3.unsat:
                detail = f"n={n}, {label}: the model and Spec " + (
                    "disagree" if verdict == z3.sat else f"unknown ({solver.reason_unknown()})"
                )
                return Outcome(
                    "unbounded-refines-spec",
                    "failed" if verdict == z3.sat else "unknown",
                    time.perf_counter() - began,
                    queries,
                    Failure(None, None, detail),
                )
    return Outcome("unbounded-refines-spec", "proved", time.perf_counter() - began, queries)
