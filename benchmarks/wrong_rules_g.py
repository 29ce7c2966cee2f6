"""Batch G of the self-audit's wrong rules (stop 29, written after batch F and blind to the
controls): reads past a stopping position, a volume heading a cascade read from its own grains
while it is a target, an incremental restart that keeps the wrong grains, restore detection
keyed on the wrong end of a map, a write bound one short, a leave that keeps the stopping
mark, an incremental member of a group copying everything again, and an image head naming its
own volume as the holder of what it presents. One more was written and dropped: a new copy of
a target opening a cascade headed by its own grains was batch D's `new-cascade-head-physical`.
"""

from __future__ import annotations

from typing import Any

from wrong_rules import _set, wrong

from model.logic import and_not, const_like, select
from model.rules.lifecycle import LifecycleRules
from model.rules.reads import ReadRules, Resolved
from model.rules.writes import WriteRules
from model.shape import IMAGE, Node, Shape
from model.state import State


@wrong("read-passes-stopping", "a read at a stopping position passes over the grains it holds")
def _read_passes_stopping() -> None:
    right = ReadRules._resolve

    def _resolve(self: ReadRules, st: State, node: Node, grain: Any) -> Resolved:
        volume = st.shape.volume_at(node)
        if node[1] > 0 and volume in st.shape.stopping:
            return self.resolve(st, (node[0], node[1] - 1), grain)
        return right(self, st, node, grain)

    _set(ReadRules, "_resolve", _resolve)


@wrong(
    "image-own-grains-when-heading",
    "a target that heads a cascade (physically) is read from its own grains",
)
def _image_own_when_heading() -> None:
    right = ReadRules.image

    def image(self: ReadRules, st: State, volume: str, grain: Any) -> Any:
        shape = st.shape
        if any(shape.chains[h[0]].head_mode != IMAGE for h in shape.heads_of(volume)):
            return select(st.phys[volume], grain)
        return right(self, st, volume, grain)

    _set(ReadRules, "image", image)


@wrong(
    "restart-keeps-changed-grains",
    "an incremental restart keeps the grains changed since the last start, not the unchanged",
)
def _restart_keeps_changed() -> None:
    right = LifecycleRules.insert

    def insert(self: LifecycleRules, st: State, target: str) -> State:
        info = st.shape.map_of(target)
        if not info.incremental:
            return right(self, st, target)
        old_split, old_diff = st.split[target], st.diff[target]
        st = right(self, st, target)
        changed = and_not(old_split, and_not(old_split, old_diff))  # split and diff
        return st.evolve(split={**st.split, target: changed})

    _set(LifecycleRules, "insert", insert)


@wrong(
    "restore-needed-onto-targets",
    "a start needs restore when its target is another active map's target, not its source",
)
def _restore_onto_targets() -> None:
    def needs_restore(self: LifecycleRules, shape: Shape, target: str) -> bool:
        return any(t == target for t in shape.active())

    _set(LifecycleRules, "needs_restore", needs_restore)


@wrong(
    "write-bound-one-short", "a host write's bound is one copy less than the positions it reaches"
)
def _write_bound_one_short() -> None:
    right = WriteRules.write_bound
    _set(WriteRules, "write_bound", lambda self, shape, v: max(right(self, shape, v) - 1, 0))


@wrong("leave-keeps-stopping", "a position that leaves keeps its map marked stopping")
def _leave_keeps_stopping() -> None:
    right = LifecycleRules.leave

    def leave(self: LifecycleRules, st: State, target: str, complete: bool) -> State:
        stopping = st.shape.stopping
        st = right(self, st, target, complete)
        shape = st.shape
        return st.evolve(shape=Shape(shape.volumes, shape.chains, shape.maps, stopping))

    _set(LifecycleRules, "leave", leave)


@wrong(
    "group-incremental-copies-all",
    "an incremental member of a group start of two or more restarts holding no grain",
)
def _group_incremental_copies_all() -> None:
    right = LifecycleRules.start

    def start(self: LifecycleRules, st: State, targets: list[str]) -> State:
        st = right(self, st, targets)
        if len(targets) < 2:
            return st
        split = dict(st.split)
        for t in targets:
            if st.shape.map_of(t).incremental:
                split[t] = const_like(split[t], False)
        return st.evolve(split=split)

    _set(LifecycleRules, "start", start)


@wrong(
    "image-head-names-itself-holder",
    "an image head names its own volume as the holder of what it presents",
)
def _image_head_names_itself() -> None:
    right = ReadRules._resolve

    def _resolve(self: ReadRules, st: State, node: Node, grain: Any) -> Resolved:
        out = right(self, st, node, grain)
        shape = st.shape
        if node[1] == 0 and shape.chains[node[0]].head_mode == IMAGE:
            return Resolved(out.value, shape.volumes.index(shape.volume_at(node)), out.kind)
        return out

    _set(ReadRules, "_resolve", _resolve)
