"""Bounded model checking from the empty system, and counterexamples as vocabulary traces.

A run is a sequence of structural steps (start, stop, leave, split, ...) with up to `m` data
steps (host writes, background copy, cleaning) before, between and after them. The structural
steps are enumerated; each data step is symbolic: Z3 chooses which write, copy or clean it is,
at which grain and with which data, so one query covers every interleaving of data steps along
one structural path. Volumes have two grains (a finite BitVec sort, so "every grain" can be
said without quantifiers) and start empty, as on a real system. A model is turned into
operations of the vocabulary (`docs/protocol.md`) and replayed concretely through the same
rules on plain values, which confirms the counterexample and gives the data every read returns.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import z3

from model.logic import Data, Patch, and_, implies, not_, or_
from model.rules import Spec
from model.state import State

from .shapes import empty
from .steps import (
    Step,
    apply,
    empty_state,
    enabled,
    fresh_bitmaps,
    precondition,
    pruned,
)
from .traces import GRAINS, Counterexample, DataChoice, Run, concretize

GrainBV = z3.BitVecSort(1)


def _grains() -> list[Any]:
    return [z3.BitVecVal(i, 1) for i in range(GRAINS)]


def _symbolic_const(value: bool) -> Any:
    return z3.K(GrainBV, z3.BoolVal(value))


def _structural(spec: Spec, st: State, step: Step) -> tuple[State, Any]:
    """A structural step and its precondition at every grain."""
    if step.kind == "start":
        st = fresh_bitmaps(st, step, _symbolic_const)
    pre = precondition(spec, st, step, _grains())
    return pruned(apply(spec, st, step)), pre


def _data_steps(spec: Spec, st: State, lost: frozenset[str]) -> list[DataChoice]:
    out = []
    for step in enabled(spec, st.shape, lost):
        if step.kind == "clean" and step.target not in st.shape.stopping:
            continue  # an engine cleans only while a map is stopping
        if step.data:
            out.append(DataChoice(step))
    return out


def _merge_states(conds: Sequence[Any], states: Sequence[State], base: State) -> State:
    """The state chosen by the first true condition, else `base`."""

    def pick(part: str, key: str) -> Any:
        value = getattr(base, part)[key]
        for cond, st in zip(reversed(conds), reversed(states), strict=True):
            value = z3.If(cond, getattr(st, part)[key], value)
        return value

    return base.evolve(
        phys={v: pick("phys", v) for v in base.phys},
        split={t: pick("split", t) for t in base.split},
        diff={t: pick("diff", t) for t in base.diff},
        ref={v: pick("ref", v) for v in base.ref},
    )


def data_step(spec: Spec, st: State, index: int) -> tuple[State, Any, tuple]:
    """One symbolic data step: Z3 picks which (or none), where, and what is written."""
    lost = frozenset(v for v in st.shape.volumes if v not in st.ref)
    choices = _data_steps(spec, st, lost)
    sel = z3.Int(f"sel{index}")
    x = z3.BitVec(f"x{index}", 1)
    data = z3.Const(f"data{index}", Data)
    patch = z3.Const(f"patch{index}", Patch)
    conds, outs, pres = [], [], []
    for i, choice in enumerate(choices):
        step = choice.step
        out = apply(spec, st, step, x, data if step.whole else patch)
        cond = sel == i + 1
        pre = precondition(spec, st, step, _grains())
        if step.kind == "copy":  # engines copy the lowest grain they lack first
            lowest = z3.Select(st.split[step.target], z3.BitVecVal(0, 1))
            pre = and_(pre, implies(x == 1, lowest))
        if step.kind == "clean":  # and clean the highest grain that needs it first
            pre = and_(
                pre, implies(x == 0, not_(spec.needs_cleaning(st, step.target, z3.BitVecVal(1, 1))))
            )
        conds.append(cond)
        outs.append(out)
        pres.append(implies(cond, pre))
    constraint = and_(sel >= 0, sel <= len(choices), *pres)
    return _merge_states(conds, outs, st), constraint, (sel, x, data, patch, choices)


def wrong_reads(spec: Spec, st: State) -> Any:
    """Some online volume reads something other than its image at some grain."""
    return or_(*[not_(spec.image(st, v, g) == st.ref[v][g]) for v in st.ref for g in _grains()])


def _events(path: Sequence[Step], m: int) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = [("data", None)] * m
    for step in path:
        events += [("struct", step)] + [("data", None)] * m
    return events


def symbolic_run(spec: Spec, n: int, path: Sequence[Step], m: int) -> tuple[Run, list[Any]]:
    """The run along a structural path, with its constraints."""
    st = empty_state(empty(n).shape, z3.K(GrainBV, z3.Const("blank", Data)))
    run = Run(states=[st])
    constraints: list[Any] = []
    for kind, step in _events(path, m):
        if kind == "struct":
            st, pre = _structural(spec, st, step)
            constraints.append(pre)
            run.events.append(("struct", step))
        else:
            st, cons, choice = data_step(spec, st, len(run.choices))
            constraints.append(cons)
            run.events.append(("data", len(run.choices)))
            run.choices.append(choice)
        run.states.append(st)
        run.bad.append(wrong_reads(spec, st))
    return run, constraints


# -- the search ----------------------------------------------------------------------------


@dataclass
class BmcResult:
    """What a bounded search covered and what it found."""

    paths: int
    seconds: float
    counterexample: Counterexample | None = None
    unconfirmed: bool = False


def check_path(
    spec: Spec, n: int, path: Sequence[Step], m: int, solver: z3.Solver | None = None
) -> tuple[bool, Counterexample | None]:
    """Does some choice of data steps along this structural path read wrong?"""
    solver = solver or z3.Solver()
    run, constraints = symbolic_run(spec, n, path, m)
    solver.push()
    solver.add(*constraints)
    solver.add(or_(*run.bad))
    verdict = solver.check()
    found = None
    if verdict == z3.sat:
        found = concretize(spec, n, run, _fewest_data_steps(solver, run))
    solver.pop()
    return verdict == z3.sat, found


def _fewest_data_steps(solver: z3.Solver, run: Run) -> z3.ModelRef:
    """A model of the failing run using as few data steps as possible (shorter traces)."""
    used = z3.Sum([z3.If(sel != 0, 1, 0) for sel, *_ in run.choices] or [z3.IntVal(0)])
    for k in range(len(run.choices) + 1):
        solver.push()
        solver.add(used <= k)
        if solver.check() == z3.sat:
            model = solver.model()
            solver.pop()
            return model
        solver.pop()
    solver.check()
    return solver.model()


def structural_paths(spec: Spec, n: int, depth: int) -> Iterator[tuple[Step, ...]]:
    """Every sequence of up to `depth` structural steps from n empty volumes."""
    from .shapes import after

    def walk(sit: Any, path: tuple[Step, ...]) -> Iterator[tuple[Step, ...]]:
        yield path
        if len(path) == depth:
            return
        for step in enabled(spec, sit.shape, sit.lost):
            if step.data or step.kind in ("clean", "group"):
                continue  # group starts: the group situations cover them (no trace form here)
            yield from walk(after(spec, sit, step), (*path, step))

    yield from walk(empty(n), ())


def bmc(spec: Spec, n: int, depth: int, m: int, stop_at_first: bool = True) -> BmcResult:
    """Check every structural path of up to `depth` steps with `m` data steps around each."""
    began = time.perf_counter()
    solver = z3.Solver()
    paths = 0
    for path in structural_paths(spec, n, depth):
        paths += 1
        failed, found = check_path(spec, n, path, m, solver)
        if failed:
            result = BmcResult(paths, time.perf_counter() - began, found, found is None)
            if stop_at_first:
                return result
    return BmcResult(paths, time.perf_counter() - began)
