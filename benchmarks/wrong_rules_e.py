"""Batch E of the self-audit's wrong rules (stop 27, after batch D and the wider groups): the
record of change around stops, prepares and restores, reads through an image head whose volume
is last in its cascade, cleaning into a stopping reader, writes to restored volumes that also
have a next target, whole-grain writes to stopping targets, and background copy at a long
cascade's end.
"""

from __future__ import annotations

from typing import Any

from wrong_rules import _set, wrong

from model.logic import const_like, select
from model.rules.cleaning import CleaningRules
from model.rules.lifecycle import LifecycleRules
from model.rules.reads import HEAD_KIND, ReadRules, Resolved
from model.rules.writes import WriteRules
from model.shape import IMAGE, Node
from model.state import State


@wrong(
    "image-replaced-skips-stopping", "a replaced image is not recorded for stopping maps from it"
)
def _replaced_skips_stopping() -> None:
    def image_replaced(self: LifecycleRules, st: State, volume: str) -> State:
        diff = dict(st.diff)
        for target in diff:
            if st.shape.map_of(target).source == volume and target not in st.shape.stopping:
                diff[target] = const_like(diff[target], True)
        return st.evolve(diff=diff)

    _set(LifecycleRules, "image_replaced", image_replaced)


@wrong(
    "write-skips-frozen-when-next",
    "a write skips frozen heads' readers when its position has a next target",
)
def _write_skips_frozen_when_next() -> None:
    right = WriteRules.write_readers

    def readers(self: WriteRules, st: State, volume: str) -> list[Node]:
        shape = st.shape
        node = shape.position(volume)
        out = right(self, st, volume)
        if node is not None and node[1] < len(shape.chains[node[0]].targets):
            frozen = [
                r for h in shape.heads_of(volume) if shape.is_frozen(h) for r in shape.readers(h)
            ]
            return [r for r in out if r not in frozen]
        return out

    _set(WriteRules, "write_readers", readers)


@wrong(
    "image-head-physical-when-last",
    "an image head presents its volume's grains when that volume is last in its cascade",
)
def _image_head_physical_when_last() -> None:
    right = ReadRules._resolve

    def resolve(self: ReadRules, st: State, node: Node, grain: Any) -> Resolved:
        shape = st.shape
        if node[1] == 0 and shape.chains[node[0]].head_mode == IMAGE:
            volume = shape.volume_at(node)
            pos = shape.position(volume)
            if pos is not None and pos[1] == len(shape.chains[pos[0]].targets):
                return Resolved(
                    select(st.phys[volume], grain), shape.volumes.index(volume), HEAD_KIND
                )
        return right(self, st, node, grain)

    _set(ReadRules, "_resolve", resolve)


@wrong(
    "clean-skips-stopping-image-first",
    "cleaning skips an image cascade's first target if it is stopping",
)
def _clean_skips_stopping_image_first() -> None:
    right = CleaningRules.clean_targets

    def targets(self: CleaningRules, st: State, target: str, g: Any) -> list[tuple[Node, Any]]:
        out = right(self, st, target, g)
        node = st.shape.position(target)
        assert node is not None
        return [
            (n, c)
            for n, c in out
            if n[0] == node[0] or st.shape.volume_at(n) not in st.shape.stopping
        ]

    _set(CleaningRules, "clean_targets", targets)


@wrong(
    "prepare-clears-own-record", "a prepare also forgets the prepared map's own record of change"
)
def _prepare_clears_own_record() -> None:
    right = LifecycleRules.prepare

    def prepare(self: LifecycleRules, st: State, target: str) -> State:
        st = right(self, st, target)
        if target in st.diff:
            st = st.evolve(diff={**st.diff, target: const_like(st.diff[target], False)})
        return st

    _set(LifecycleRules, "prepare", prepare)


@wrong(
    "whole-write-stopping-no-bit", "a whole-grain write to a stopping target does not mark it held"
)
def _whole_write_stopping_no_bit() -> None:
    right = WriteRules.fill

    def fill(self: WriteRules, st: State, volume: str, grain: Any, whole: bool) -> State:
        if whole and volume in st.shape.stopping:
            return st
        return right(self, st, volume, grain, whole)

    _set(WriteRules, "fill", fill)


@wrong(
    "restore-start-resets-own-record",
    "a restore's start forgets the record of incremental maps onto the restored volume's copies",
)
def _restore_start_resets_own_record() -> None:
    right = LifecycleRules.insert

    def insert(self: LifecycleRules, st: State, target: str) -> State:
        restore = self.needs_restore(st.shape, target)
        st = right(self, st, target)
        if restore:
            diff = dict(st.diff)
            for t in diff:
                if st.shape.map_of(t).source == target:
                    diff[t] = const_like(diff[t], False)
            st = st.evolve(diff=diff)
        return st

    _set(LifecycleRules, "insert", insert)


@wrong(
    "background-skips-long-cascade-end",
    "background copy into the last target of a cascade of three or more does nothing",
)
def _background_skips_long_cascade_end() -> None:
    right = LifecycleRules.background_copy

    def background_copy(self: LifecycleRules, st: State, target: str, grain: Any) -> State:
        node = st.shape.position(target)
        assert node is not None
        chain = st.shape.chains[node[0]]
        if len(chain.targets) >= 3 and node[1] == len(chain.targets):
            return st
        return right(self, st, target, grain)

    _set(LifecycleRules, "background_copy", background_copy)
