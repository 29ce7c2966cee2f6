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

import functools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import z3

from model.logic import Data, Grain, and_, eq, implies, select
from model.rules import Spec
from model.shape import Shape
from model.state import State

from .shapes import Situation, chain_families
from .steps import Step, apply
from .sweep import invariant_at, pre_state, shared, situation_terms
from .unbounded import Cascade, fresh, head_write, insert_first, remove_cleaned, target_write
from .verdicts import Failure, Outcome

TIMEOUT_MS = 20_000


def _snapshots(spec: Spec, n: int) -> Situation:
    """n snapshots of V0 in one cascade, and one spare volume."""
    return next(s for s in chain_families(spec, n) if s.family == f"snapshots-of-one-source-{n}")


class Positions(Protocol):
    """A model's cascade: its length and its Int-indexed arrays over positions."""

    n: Any
    split: Any
    phys: Any
    ref: Any


@functools.cache
def index(i: int) -> Any:
    """Position i as a Z3 constant, built once."""
    return z3.IntVal(i)


def at(array: Any, i: int) -> Any:
    """A model array at position i (the direct API: Z3's indexing with a Python int is slow)."""
    return select(array, index(i))


def positions(c: Positions, targets: tuple[str, ...] | list[str], st: State, g: Any) -> list[Any]:
    """R at each target position: the cascade's length, and at position i (the i-th of
    `targets`) the same split bit, where it holds the grain the same physical value, and the
    same abstract image."""
    parts = [eq(c.n, index(len(targets)))]
    for i, v in enumerate(targets, start=1):
        held = select(st.split[v], g)
        parts += [
            eq(at(c.split, i), held),
            implies(held, eq(at(c.phys, i), select(st.phys[v], g))),
            eq(at(c.ref, i), select(st.ref[v], g)),
        ]
    return parts


def related(c: Cascade, st: State, order: list[str], g: Any) -> Any:
    """R: `order` lists the head and then the targets from the head; position i is order[i]."""
    head = eq(at(c.phys, 0), select(st.phys[order[0]], g))
    return and_(head, *positions(c, order[1:], st, g))


def _order(shape: Shape) -> list[str]:
    """The one cascade's head, then its targets from the head: the model's positions 0..n."""
    chain = shape.chains[0]
    return [chain.head, *chain.targets]


def cleaned_away(v: str) -> list[Step]:
    """A position's way out after a stop, as `Spec` steps: the stop, a grain of cleaning, and
    the position leaving (stopped, not complete)."""
    return [Step("stop", v), Step("clean", v), Step("leave", v, complete=False)]


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
                    cleaned_away(v),
                    lambda c, d, m=m: remove_cleaned(c, z3.IntVal(m)),
                )
            )
    return cases


def _spec_steps(spec: Spec, pre: State, steps: Step | list[Step], g: Any, d: Any) -> State:
    """The state after `Spec` takes the steps from `pre` (data steps at grain g)."""
    st = pre
    for step in [steps] if isinstance(steps, Step) else steps:
        st = apply(spec, st, step, g if step.data else None, d)
    return st


@dataclass(frozen=True)
class Link:
    """One operation taken by a model and by `Spec` from R-related states: the model's state
    related to `Spec`'s before (`before(pre)`) and after (`after(post)`) the steps."""

    where: str  # which shape, for messages
    label: str
    steps: Step | list[Step]
    payload: Any
    before: Callable[[State], Any]
    after: Callable[[State], Any]
    first: bool  # the first operation at its shape: R and Inv are checked satisfiable there


def linker(
    family: str, model: Any, relate: Callable[[Any, State, Any], Any], g: Any, payload: Any
) -> Callable[..., Link]:
    """Links for one model state at one shape: `relate(model, state, g)` before the `Spec`
    steps, and `relate(step(model), state, g)` after them."""

    def before(pre: State) -> Any:  # one function for all its links: built once per state
        return relate(model, pre, g)

    def link(
        label: str, steps: Step | list[Step], step: Callable[[Any], Any], first: bool = False
    ) -> Link:
        return Link(
            family, label, steps, payload, before, lambda post: relate(step(model), post, g), first
        )

    return link


def _disproved(
    spec: Spec, solver: z3.Solver, sit: Situation, link: Link, g: Any, model: str
) -> tuple[str, str] | None:
    """One link's query: None when R and Inv before imply R after, else the verdict and why
    (the first link at a shape also fails if no state is related at all)."""
    first = link.steps if isinstance(link.steps, Step) else link.steps[0]
    pre = pre_state(sit, first, "")
    post = _spec_steps(spec, pre, link.steps, g, link.payload)
    before = shared("R", pre, lambda: link.before(pre), (link.before, pre.shape))
    solver.push()
    try:
        solver.add(before, invariant_at(spec, pre, g))
        if link.first and solver.check() == z3.unsat:
            return "failed", f"vacuous: no state of {link.where} is related to {model}"
        solver.add(z3.Not(link.after(post)))
        verdict = solver.check()
        if verdict == z3.unsat:
            return None
        why = "disagree" if verdict == z3.sat else f"unknown ({solver.reason_unknown()})"
        return (
            "failed" if verdict == z3.sat else "unknown"
        ), f"{link.where}, {link.label}: {model} and Spec {why}"
    finally:
        solver.pop()


def check_links(
    name: str, model: str, spec: Spec, shapes: Iterable[tuple[Situation, list[Link]]]
) -> Outcome:
    """Every link: R and Inv before the `Spec` steps imply R after them and the model's step
    (the first at each shape also checks that R and Inv hold of some state: not vacuous)."""
    began = time.perf_counter()
    solver = z3.Solver()
    solver.set("timeout", TIMEOUT_MS)
    queries = 0
    g = z3.Const("g", Grain)

    def ended(verdict: str, detail: str) -> Outcome:
        return Outcome(
            name, verdict, time.perf_counter() - began, queries, Failure(None, None, detail)
        )

    for sit, links in shapes:
        with situation_terms():  # a shape's pre-states, their Inv and R before: built once
            for link in links:
                queries += 1
                found = _disproved(spec, solver, sit, link, g, model)
                if found:
                    return ended(*found)
    return Outcome(name, "proved", time.perf_counter() - began, queries)


def _cascade_links(spec: Spec, n: int, g: Any, d: Any) -> tuple[Situation, list[Link]]:
    """Every operation of the model on a cascade of n snapshots, as `Spec` steps and the
    model's own, from one model state."""
    sit = _snapshots(spec, n)
    order = _order(sit.shape)
    c = fresh(f"_{n}")

    def before(pre: State) -> Any:
        return related(c, pre, order, g)

    def link(case: tuple[str, Any, Any], index: int) -> Link:
        label, steps, model_step = case

        def after(post: State) -> Any:
            return related(model_step(c, d), post, _order(post.shape), g)

        return Link(f"n={n}", label, steps, d, before, after, first=index == 0)

    return sit, [link(case, i) for i, case in enumerate(_cases(sit))]


def check_refinement(spec: Spec, bound: int) -> Outcome:
    """`unbounded-refines-spec`: every operation of the unbounded model agrees with `Spec` on
    one cascade of every length 1..bound (see the module text)."""
    g = z3.Const("g", Grain)
    d = z3.Const("d", Data)

    shapes = (_cascade_links(spec, n, g, d) for n in range(1, bound + 1))
    return check_links("unbounded-refines-spec", "the model", spec, shapes)
