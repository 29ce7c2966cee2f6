"""Counterexamples as operations of the vocabulary, confirmed on plain values.

A failing bounded run (`proofs/bmc.py`) is turned into a trace file (`docs/protocol.md`) and
replayed through the same rules on concrete values, which confirms the wrong read and gives the
data every read returns; `plain_trace` does the same for claims about copies rather than images.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import z3

from model.logic import BlockPatch, GrainArray
from model.rules import Spec
from model.shape import Shape
from model.state import State

from .shapes import empty
from .steps import Step, apply, empty_state, enabled, fresh_bitmaps, precondition, pruned

GRAINS = 2
GRAIN_SIZE = 2


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
    return empty_state(empty(n).shape, GrainArray({}, default=("", "")))


def _concrete_start(st: State, step: Step) -> State:
    return fresh_bitmaps(st, step, lambda value: GrainArray({}, default=value))


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
            st = pruned(apply(spec, st, step))
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
            st = pruned(apply(spec, st, step))
    return {
        "format": "cascadecheck/trace-1",
        "grain_size": GRAIN_SIZE,
        "policy": spec.policy,
        "ops": vocab.ops,
    }


def random_run(spec: Spec, n: int, length: int, seed: int) -> str | None:
    """A random run of `length` enabled steps from n empty volumes, on plain values: after each
    step, every volume with an abstract image must read it (concretely, by the same rules the
    proofs reason about symbolically). The first wrong read, in words; None if there is none."""
    import random

    rng = random.Random(seed)
    st = _concrete_state(n)
    done: list[str] = []
    for number in range(1, length + 1):
        lost = frozenset(v for v in st.shape.volumes if v not in st.ref)
        steps = [
            s
            for s in enabled(spec, st.shape, lost)
            if (s.kind != "clean" or s.target in st.shape.stopping) and s.kind != "group"
        ]
        step = rng.choice(steps)
        grain = rng.randrange(GRAINS)
        if step.kind == "start":
            st = _concrete_start(st, step)
        if precondition(spec, st, step, range(GRAINS)) is False:
            continue
        token = f"w{number}"
        payload: Any = (token, token) if step.whole else BlockPatch(((rng.randrange(2), token),))
        st = apply(spec, st, step, grain, payload if step.kind == "write" else None)
        if not step.data:
            st = pruned(st)
        done.append(step.label() + (f" grain {grain}" if step.data else ""))
        for v in sorted(st.ref):
            for g in range(GRAINS):
                got, want = spec.image(st, v, g), st.ref[v][g]
                if got != want:
                    return f"after {' ; '.join(done)}: {v} grain {g} reads {got}, image {want}"
    return None
