"""Wrong rules about structure: where a target joins, when a position may leave, what a start
or stop records.

Each class is `Spec` with exactly one rule replaced — a target appended at the far end, a
position leaving before it is clean, a group started in the wrong order, a restore never
detected — for a control of `proofs/controls.py`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from model.logic import select
from model.rules import Spec
from model.shape import Node, Shape
from model.state import State


class AppendAtEnd(Spec):
    """Wrong insertion rule: a new target joins at the end of the cascade, not after its source."""

    def attach_point(self, shape: Shape, source: str, kind: str) -> Node | None:
        node = super().attach_point(shape, source, kind)
        if node is None:
            return None
        return node[0], len(shape.chains[node[0]].targets)


class RemovalWithoutCleaning(Spec):
    """Wrong stop rule: a stopped target leaves its cascade without cleaning."""

    def needs_cleaning(self, st: State, target: str, grain: Any) -> Any:
        return False


class CompletionWithDependents(Spec):
    """Wrong completion rule: a complete target leaves even while others read through it."""

    def may_leave(self, st: State, target: str, complete: bool, grain: Any) -> Any:
        if complete:
            return select(st.split[target], grain)
        return super().may_leave(st, target, complete, grain)


class SplitIncomplete(Spec):
    """Wrong split rule: a target splits from its cascade before it holds every grain."""

    def may_split(self, st: State, target: str, grain: Any) -> Any:
        return True


class NeverLeaves(Spec):
    """A position may never leave its cascade (stop and completion never end)."""

    def may_leave(self, st: State, target: str, complete: bool, grain: Any) -> Any:
        return False


class NeverSplits(Spec):
    """A target may never be split out."""

    def may_split(self, st: State, target: str, grain: Any) -> Any:
        return False


class CompletionWithoutEveryGrain(Spec):
    """Wrong completion rule: a copy counts as complete, and leaves, without holding every grain."""

    def may_leave(self, st: State, target: str, complete: bool, grain: Any) -> Any:
        return super().may_leave(st, target, False, grain)


class GroupOrderReversed(Spec):
    """Wrong copy-rate rule: maps started together join fastest first (the slowest ends nearest)."""

    def group_order(self, shape: Shape, targets: list[str]) -> list[str]:
        return list(reversed(super().group_order(shape, targets)))


class GroupOrdersFirstFour(Spec):
    """Wrong copy-rate rule, right for small groups only: a group start puts its first four
    members in rate order and lets the rest join after them as named."""

    def group_order(self, shape: Shape, targets: list[str]) -> list[str]:
        return super().group_order(shape, targets[:4]) + targets[4:]


class RestoreNeverNeeded(Spec):
    """Wrong restore rule: no start needs the restore flag, even onto a volume others read."""

    def needs_restore(self, shape: Shape, target: str) -> bool:
        return False


class ReplacedImageNotRecorded(Spec):
    """Wrong difference rule: a volume's image replaced wholesale (a start onto it, a lost
    image) leaves the records of incremental maps copying from it as they were."""

    def image_replaced(self, st: State, volume: str) -> State:
        return st


class RecordKeptAtStart(Spec):
    """Wrong difference rule: a start keeps the map's old record instead of clearing it."""

    def insert(self, st: State, target: str) -> State:
        old = st.diff.get(target)
        st = super().insert(st, target)
        return st if old is None else st.evolve(diff={**st.diff, target: old})


class RestoreAlwaysNeeded(Spec):
    """Wrong restore rule: every start needs the restore flag, even onto a volume nothing
    copies from."""

    def needs_restore(self, shape: Shape, target: str) -> bool:
        return True


class StopNeedsEveryGrain(Spec):
    """Wrong stop rule: a stopped copy may leave only once it holds every grain, as if complete."""

    def may_leave(self, st: State, target: str, complete: bool, grain: Any) -> Any:
        return super().may_leave(st, target, True, grain)


class StopNotRecorded(Spec):
    """Wrong stop rule: a stop leaves the map as it was (it is never stopping, so a stopped copy
    can never leave)."""

    def begin_stop(self, st: State, target: str) -> State:
        return st


class NeverJoins(Spec):
    """Wrong join rule: a start joins only the cascade holding its source's position, never one
    its source heads, so every new target of a plain source opens a cascade of its own."""

    def attach_point(self, shape: Shape, source: str, kind: str) -> Node | None:
        own = shape.position(source)
        return own if own is not None and shape.chains[own[0]].kind == kind else None


class StoppingNeverCleared(Spec):
    """Wrong leave rule: a position that leaves stays marked stopping."""

    def leave(self, st: State, target: str, complete: bool) -> State:
        stopping = st.shape.stopping
        st = super().leave(st, target, complete)
        return st.evolve(shape=replace(st.shape, stopping=stopping))
