"""The data of a system: physical grains, bitmaps and (as ghost state) the abstract images.

Arrays are over grains. In a proof they are Z3 arrays from the uninterpreted `Grain` sort, so
nothing depends on how many grains a volume has; in a check they are `GrainArray`s holding only
the grains a step touched. `ref` is the abstract model's image of every volume that has one
(`model.pointintime`). The cascade rules neither read nor write it: each operation steps it by
the point-in-time rules alone (`proofs/steps.py: next_images`), apart from the rules, and the
invariant relates the two — so a wrong rule cannot move what it is checked against.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import z3

from .logic import Data, Grain
from .shape import Shape


@dataclass(frozen=True)
class Copy:
    """One grain copy a rule may make: into which target, of what kind, under which condition."""

    kind: str  # cow | fill | background | clean
    target: str
    holder: Any  # index of the volume whose grain is copied (symbolic when data decides)
    condition: Any  # whether the copy happens (and moves data: not onto itself)
    data_from: str  # the type of the position the data comes from, within the target's cascade


@dataclass(frozen=True)
class State:
    """Shape, data and ghost images of one system."""

    shape: Shape
    phys: Mapping[str, Any]
    split: Mapping[str, Any]
    diff: Mapping[str, Any]
    ref: Mapping[str, Any]
    copies: tuple[Copy, ...] = field(default=())
    memo: dict[Any, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "memo", {})  # reads of this state, computed once

    def evolve(self, **changes: Any) -> State:
        """A new state with some parts replaced (and nothing read of it yet): what
        `dataclasses.replace` does, without its per-call inspection of the fields — the rules
        evolve states millions of times while shapes are enumerated."""
        unknown = changes.keys() - _PARTS
        if unknown:
            raise TypeError(f"a state has no part {sorted(unknown)}")
        new = object.__new__(State)
        new.__dict__.update(self.__dict__, memo={}, **changes)
        return new


_PARTS = frozenset({"shape", "phys", "split", "diff", "ref", "copies"})


def symbolic_state(
    shape: Shape, tag: str = "", lost: frozenset[str] = frozenset(), grain: z3.SortRef = Grain
) -> State:
    """Every array a fresh Z3 constant: a state about which nothing is known.
    Volumes in `lost` have no abstract image (stopped before completing, or being prepared)."""

    def arr(kind: str, name: str, rng: z3.SortRef) -> z3.ArrayRef:
        return z3.Array(f"{kind}{tag}[{name}]", grain, rng)

    maps = dict(shape.maps)
    return State(
        shape=shape,
        phys={v: arr("phys", v, Data) for v in shape.volumes},
        split={t: arr("split", t, z3.BoolSort()) for t in maps},
        diff={t: arr("diff", t, z3.BoolSort()) for t in maps if maps[t].incremental},
        ref={v: arr("ref", v, Data) for v in shape.volumes if v not in lost},
    )


def initial_state(shape: Shape, tag: str = "", grain: z3.SortRef = Grain) -> State:
    """No map has run yet: every volume's image is its physical contents."""
    s = symbolic_state(shape, tag, grain=grain)
    false = z3.K(grain, z3.BoolVal(False))
    true = z3.K(grain, z3.BoolVal(True))
    return s.evolve(
        ref=dict(s.phys),
        split={t: false for t in s.split},
        diff={t: true for t in s.diff},
    )
