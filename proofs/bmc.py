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
from dataclasses import dataclass, field
from typing import Any

import z3

from model.logic import BlockPatch, Data, GrainArray, Patch, and_, implies, not_, or_
from model.rules import Spec
from model.shape import Shape
from model.state import State

from .shapes import _prune, empty
from .steps import Step, apply, enabled, precondition, with_map

GRAINS = 2
GRAIN_SIZE = 2
GrainBV = z3.BitVecSort(1)


@dataclass(frozen=True)
class DataChoice:
    """One data step Z3 may choose."""

    step: Step


@dataclass
class Run:
    """A symbolic run along one structural path: the states and what Z3 may choose."""

    states: list[State] = field(default_factory=list)
    events: list[tuple[str, Any]] = field(default_factory=list)  # ("struct", Step) | ("data", i)
    choices: list[tuple[Any, Any, Any, Any, list[DataChoice]]] = field(default_factory=list)
    bad: list[Any] = field(default_factory=list)


def _grains() -> list[Any]:
    return [z3.BitVecVal(i, 1) for i in range(GRAINS)]


def empty_state(shape: Shape) -> State:
    """Every volume empty: the blank Data value everywhere, images equal to contents."""
    blank = z3.K(GrainBV, z3.Const("blank", Data))
    return State(
        shape=shape,
        phys=dict.fromkeys(shape.volumes, blank),
        split={},
        diff={},
        ref=dict.fromkeys(shape.volumes, blank),
    )


def _fresh_bitmaps(st: State, step: Step) -> State:
    """A start of a new map gets bitmaps (all clear; an incremental one records everything)."""
    shape = with_map(st.shape, step)
    split, diff = dict(st.split), dict(st.diff)
    if step.target not in split or st.shape.map_of(step.target) != shape.map_of(step.target):
        split[step.target] = z3.K(GrainBV, z3.BoolVal(False))
        if step.incremental:
            diff[step.target] = z3.K(GrainBV, z3.BoolVal(True))
        else:
            diff.pop(step.target, None)
    return st.evolve(shape=shape, split=split, diff=diff)


def _structural(spec: Spec, st: State, step: Step) -> tuple[State, Any]:
    """A structural step and its precondition at every grain."""
    if step.kind == "start":
        st = _fresh_bitmaps(st, step)
    pre = precondition(spec, st, step, _grains())
    return _pruned(apply(spec, st, step)), pre


def _pruned(st: State) -> State:
    """Forget maps that no longer shape anything, with their bitmaps."""
    shape = _prune(st.shape)
    keep = {t for t, _ in shape.maps}
    return st.evolve(
        shape=shape,
        split={t: a for t, a in st.split.items() if t in keep},
        diff={t: a for t, a in st.diff.items() if t in keep},
    )


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
    st = empty_state(empty(n).shape)
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


# -- turning a model into a trace ---------------------------------------------------------


@dataclass
class Counterexample:
    """A failing run as vocabulary operations, confirmed by running the rules concretely."""

    ops: list[dict[str, Any]]
    steps: list[str]
    volume: str
    grain: int
    expected: tuple[str, ...]
    got: tuple[str, ...]
    policy: str

    def trace(self) -> dict[str, Any]:
        """The trace file (format cascadecheck/trace-1)."""
        return {
            "format": "cascadecheck/trace-1",
            "grain_size": GRAIN_SIZE,
            "policy": self.policy,
            "ops": self.ops,
        }

    def explain(self) -> str:
        """In words."""
        return (
            f"after {' ; '.join(self.steps)}: {self.volume} grain {self.grain} reads "
            f"{list(self.got)} but its point-in-time image is {list(self.expected)}"
        )


def _concrete_state(n: int) -> State:
    shape = empty(n).shape
    blank = GrainArray({}, default=("", ""))
    return State(
        shape=shape,
        phys=dict.fromkeys(shape.volumes, blank),
        split={},
        diff={},
        ref=dict.fromkeys(shape.volumes, blank),
    )


def _concrete_start(st: State, step: Step) -> State:
    shape = with_map(st.shape, step)
    split, diff = dict(st.split), dict(st.diff)
    if step.target not in split or st.shape.map_of(step.target) != shape.map_of(step.target):
        split[step.target] = GrainArray({}, default=False)
        diff.pop(step.target, None)
        if step.incremental:
            diff[step.target] = GrainArray({}, default=True)
    return st.evolve(shape=shape, split=split, diff=diff)


class _Vocabulary:
    """Emits operations for steps, keeping map names."""

    def __init__(self, spec: Spec, n: int) -> None:
        self.spec = spec
        self.ops: list[dict[str, Any]] = [
            {"op": "create_volume", "volume": f"V{i}", "size": GRAINS * GRAIN_SIZE}
            for i in range(n)
        ]
        self.names: dict[str, tuple[str, tuple]] = {}
        self.count = 0

    def map_name(self, target: str) -> str:
        return self.names[target][0]

    def start(self, shape: Shape, step: Step) -> None:
        key = (step.source, step.map_type, step.incremental)
        known = self.names.get(step.target)
        if known is None or known[1] != key:
            if known is not None:
                self.ops.append({"op": "delete_map", "map": known[0], "force": True})
            self.count += 1
            name = f"m{self.count}"
            self.names[step.target] = (name, key)
            self.ops.append(
                {
                    "op": "create_map",
                    "map": name,
                    "source": step.source,
                    "target": step.target,
                    "type": step.map_type,
                    "copy_rate": 0 if step.map_type == "snapshot" else 50,
                    "incremental": step.incremental,
                }
            )
        op: dict[str, Any] = {"op": "start", "map": self.map_name(step.target)}
        if self.spec.needs_restore(shape, step.target):
            op["restore"] = True
        self.ops.append(op)

    def other(self, step: Step) -> None:
        name = self.names[step.target][0] if step.target in self.names else None
        table = {
            "stop": {"op": "stop", "map": name},
            "force": {"op": "stop", "map": name, "force": True},
            "split": {"op": "stop", "map": name, "split": True},
            "prepare": {"op": "prepare", "map": name},
            "revive": {"op": "delete_map", "map": name, "force": True},
            "copy": {"op": "copy", "map": name, "grains": 1},
            "clean": {"op": "copy", "map": name, "grains": 1},
        }
        if step.kind in table:
            self.ops.append(table[step.kind])


def concretize(spec: Spec, n: int, run: Run, model: z3.ModelRef) -> Counterexample | None:
    """Replay the model's choices concretely and find the first wrong read."""
    vocab = _Vocabulary(spec, n)
    st = _concrete_state(n)
    words: list[str] = []
    for number, (kind, item) in enumerate(run.events, start=1):
        if kind == "struct":
            step: Step = item
            if step.kind == "start":
                vocab.start(st.shape, step)
                st = _concrete_start(st, step)
            else:
                vocab.other(step)
            st = _pruned(apply(spec, st, step))
            words.append(step.label())
        else:
            sel, x, _, _, choices = run.choices[item]
            pick = model.eval(sel, model_completion=True).as_long()
            if pick == 0:
                continue
            step = choices[pick - 1].step
            grain = model.eval(x, model_completion=True).as_long()
            if step.kind == "write":
                token = f"w{number}"
                payload: Any = (token, token) if step.whole else BlockPatch(((0, token),))
                vocab.ops.append(
                    {
                        "op": "write",
                        "volume": step.target,
                        "block": grain * GRAIN_SIZE,
                        "data": [token] * (GRAIN_SIZE if step.whole else 1),
                    }
                )
            else:
                payload = None
                vocab.other(step)
            st = apply(spec, st, step, grain, payload)
            words.append(f"{step.label()} grain {grain}")
        for v in sorted(st.ref):
            for g in range(GRAINS):
                got, want = spec.image(st, v, g), st.ref[v][g]
                if got != want:
                    vocab.ops.append(
                        {
                            "op": "read",
                            "volume": v,
                            "block": g * GRAIN_SIZE,
                            "count": GRAIN_SIZE,
                            "expect": {"data": list(want)},
                        }
                    )
                    return Counterexample(
                        vocab.ops, words, v, g, tuple(want), tuple(got), spec.policy
                    )
    return None


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
            if step.data or step.kind == "clean":
                continue
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


def plain_trace(spec: Spec, n: int, steps: Sequence[Step]) -> dict[str, Any]:
    """Vocabulary operations for a sequence of steps (data steps at grain 0), without reads:
    for claims about copies rather than images (type separation, bounded work, cleaning)."""
    vocab = _Vocabulary(spec, n)
    st = _concrete_state(n)
    for number, step in enumerate(steps, start=1):
        if step.kind == "start":
            vocab.start(st.shape, step)
            st = _concrete_start(st, step)
        elif step.kind == "write":
            token = f"w{number}"
            vocab.ops.append(
                {
                    "op": "write",
                    "volume": step.target,
                    "block": 0,
                    "data": [token] * (GRAIN_SIZE if step.whole else 1),
                }
            )
        else:
            vocab.other(step)
        if not step.data:
            st = _pruned(apply(spec, st, step))
    return {
        "format": "cascadecheck/trace-1",
        "grain_size": GRAIN_SIZE,
        "policy": spec.policy,
        "ops": vocab.ops,
    }
