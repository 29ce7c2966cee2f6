"""Batch B of the self-audit's wrong rules (stop 22): classes batch A did not try — how reads
redirect, what a copy takes, partial writes, the record of change, cleaning's guards, where a
start inserts, how a type is detected, splits, leaves and restarts of incremental maps. Each
is one plausible mistake an implementer of `model/rules/` could make.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from wrong_rules import _set, wrong

from model.logic import and_, and_not, any_of, const_like, eq, ite, not_, or_, select, store
from model.rules.cleaning import CleaningRules
from model.rules.copies import CopyRules
from model.rules.lifecycle import LifecycleRules
from model.rules.reads import ReadRules, Resolved
from model.rules.writes import WriteRules
from model.shape import Shape
from model.state import Copy

# -- reads -----------------------------------------------------------------------------------


@wrong("read-one-level", "a target lacking a grain reads its upstream volume's physical grain")
def _read_one_level() -> None:
    right = ReadRules._resolve

    def resolve(self: Any, st: Any, node: Any, grain: Any) -> Any:
        out = right(self, st, node, grain)
        if node[1] < 2:
            return out
        up = st.shape.volume_at((node[0], node[1] - 1))
        volume = st.shape.volume_at(node)
        held = select(st.split[volume], grain)
        return Resolved(
            ite(held, out.value, select(st.phys[up], grain)),
            ite(held, out.holder, st.shape.volumes.index(up)),
            out.kind,
        )

    _set(ReadRules, "_resolve", resolve)


@wrong("image-head-reads-physical", "a head presenting a target's image presents its grains")
def _image_head_physical() -> None:
    right = ReadRules._resolve

    def resolve(self: Any, st: Any, node: Any, grain: Any) -> Any:
        shape = st.shape
        if node[1] == 0 and shape.chains[node[0]].head_mode != "physical":
            volume = shape.volume_at(node)
            return Resolved(select(st.phys[volume], grain), shape.volumes.index(volume), 0)
        return right(self, st, node, grain)

    _set(ReadRules, "_resolve", resolve)


# -- copies ----------------------------------------------------------------------------------


def _copy_into(value: Callable[..., Any], bit: Callable[[Any, Any, Any], Any]) -> Any:
    """`CopyRules.copy_into` with the value copied (`value(st, node, seen, grain)`) and the bit
    set (`bit(held, guard, moves)`) chosen by the wrong rule; the rest as the right rule."""

    def copy_into(
        self: Any,
        st: Any,
        node: Any,
        grain: Any,
        kind: str,
        guard: Any = True,
        busy: frozenset = frozenset(),
    ) -> Any:
        shape = st.shape
        volume = shape.volume_at(node)
        held = select(st.split[volume], grain)
        seen = self.resolve(st, node, grain)
        moves = and_(guard, not_(held), not_(eq(seen.holder, shape.volumes.index(volume))))
        st = self.preserve_frozen_readers(st, volume, grain, moves, busy | {volume})
        new = ite(moves, value(st, node, seen, grain), select(st.phys[volume], grain))
        return st.evolve(
            phys={**st.phys, volume: store(st.phys[volume], grain, new)},
            split={**st.split, volume: store(st.split[volume], grain, bit(held, guard, moves))},
            copies=(*st.copies, Copy(kind, volume, seen.holder, moves, seen.kind)),
        )

    return copy_into


def _upstream_grain(st: Any, node: Any, seen: Any, grain: Any) -> Any:
    """The physical grain of the volume just upstream (the head's image for position 1)."""
    if node[1] <= 1:
        return seen.value
    return select(st.phys[st.shape.volume_at((node[0], node[1] - 1))], grain)


@wrong("copy-takes-upstream-grain", "a copy takes the upstream volume's physical grain")
def _copy_upstream_grain() -> None:
    _set(
        CopyRules,
        "copy_into",
        _copy_into(_upstream_grain, lambda held, guard, moves: or_(held, guard)),
    )


@wrong("copy-bit-only-when-moved", "a copy sets the bit only when data moved")
def _copy_bit_moved() -> None:
    _set(
        CopyRules,
        "copy_into",
        _copy_into(
            lambda st, node, seen, grain: seen.value, lambda held, guard, moves: or_(held, moves)
        ),
    )


# -- writes ----------------------------------------------------------------------------------


@wrong("partial-write-replaces", "a partial write replaces the whole grain")
def _partial_replaces() -> None:
    right = WriteRules.host_write

    def host_write(self: Any, st: Any, volume: str, grain: Any, payload: Any, whole: bool) -> Any:
        return (
            right(self, st, volume, grain, payload, True)
            if not whole
            else right(self, st, volume, grain, payload, whole)
        )

    _set(WriteRules, "host_write", host_write)


@wrong("fill-after-write", "a partial write to a target fills the grain after writing")
def _fill_after() -> None:
    def host_write(self: Any, st: Any, volume: str, grain: Any, payload: Any, whole: bool) -> Any:
        from model.logic import merge

        for reader in self.write_readers(st, volume):
            st = self.copy_into(st, reader, grain, "cow")
        old = select(st.phys[volume], grain)
        new = payload if whole else merge(old, payload)
        st = st.evolve(phys={**st.phys, volume: store(st.phys[volume], grain, new)})
        st = self.fill(st, volume, grain, whole)
        return self.record_difference(st, volume, grain)

    _set(WriteRules, "host_write", host_write)


@wrong("write-skips-own-readers", "a write to a target preserves only readers of its heads")
def _write_skips_own() -> None:
    right = WriteRules.write_readers

    def readers(self: Any, st: Any, volume: str) -> list:
        own = st.shape.position(volume)
        mine = st.shape.readers(own) if own else []
        return [r for r in right(self, st, volume) if r not in mine]

    _set(WriteRules, "write_readers", readers)


@wrong("diff-records-every-map", "a write marks the grain changed for every incremental map")
def _diff_every() -> None:
    def record(self: Any, st: Any, volume: str, grain: Any) -> Any:
        return st.evolve(diff={t: store(a, grain, True) for t, a in st.diff.items()})

    _set(WriteRules, "record_difference", record)


@wrong("diff-target-writes-only", "only a write to an incremental map's target is recorded")
def _diff_target_only() -> None:
    def record(self: Any, st: Any, volume: str, grain: Any) -> Any:
        diff = dict(st.diff)
        if volume in diff:
            diff[volume] = store(diff[volume], grain, True)
        return st.evolve(diff=diff)

    _set(WriteRules, "record_difference", record)


# -- cleaning --------------------------------------------------------------------------------


@wrong("clean-ignores-self-restore", "cleaning ignores that the position before holds the grain")
def _clean_no_same() -> None:
    def clean_targets(self: Any, st: Any, target: str, grain: Any) -> list:
        shape = st.shape
        ci, place = shape.position(target)
        held = select(st.split[target], grain)
        out = []
        if place < len(shape.chains[ci].targets):
            nxt = shape.chains[ci].targets[place]
            out.append(((ci, place + 1), and_(held, not_(select(st.split[nxt], grain)))))
        for cj, chain in enumerate(shape.chains):
            if chain.head == target and chain.head_mode == "image" and chain.targets:
                first = chain.targets[0]
                out.append(((cj, 1), and_(not_(held), not_(select(st.split[first], grain)))))
        return out

    _set(CleaningRules, "clean_targets", clean_targets)


@wrong("leave-waits-for-next-only", "a position may leave once the next target has the grain")
def _leave_next_only() -> None:
    def needs(self: Any, st: Any, target: str, grain: Any) -> Any:
        ci = st.shape.position(target)[0]
        return any_of(cond for node, cond in self.clean_targets(st, target, grain) if node[0] == ci)

    _set(CleaningRules, "needs_cleaning", needs)


# -- where a start goes, and of what type ----------------------------------------------------


@wrong("insert-at-tail", "a start appends the target at the end of its cascade")
def _insert_tail() -> None:
    right = Shape.insert_after

    def insert_after(self: Shape, node: Any, source: str, target: str, kind: str) -> Shape:
        if node is None:
            return right(self, node, source, target, kind)
        ci = node[0]
        chains = list(self.chains)
        chains[ci] = replace(chains[ci], targets=(*chains[ci].targets, target))
        return replace(self, chains=tuple(chains))

    _set(Shape, "insert_after", insert_after)


@wrong("always-new-cascade", "every start begins a cascade of its own")
def _always_new() -> None:
    _set(LifecycleRules, "attach_point", lambda self, shape, source, kind: None)


@wrong("head-of-any-kind", "a start joins any live head of its source, whatever its kind")
def _head_any_kind() -> None:
    def attach(self: Any, shape: Shape, source: str, kind: str) -> Any:
        own = shape.position(source)
        if own is not None and shape.chains[own[0]].kind == kind:
            return own
        for head in shape.heads_of(source):
            if not shape.is_frozen(head):
                return head
        return None

    _set(LifecycleRules, "attach_point", attach)


@wrong("type-by-copy-rate", "a map copying in the background (rate > 0) joins a clone cascade")
def _type_by_rate() -> None:
    def insert(self: Any, st: Any, target: str) -> Any:
        info = st.shape.map_of(target)
        kind = "clone" if info.copy_rate > 0 else "snapshot"
        shape = st.shape.insert_after(
            self.attach_point(st.shape, info.source, kind), info.source, target, kind
        )
        split, diff = dict(st.split), dict(st.diff)
        if info.incremental:
            split[target] = and_not(st.split[target], st.diff[target])
            diff[target] = const_like(st.diff[target], False)
        else:
            split[target] = const_like(st.split[target], False)
        st = st.evolve(shape=shape, split=split, diff=diff)
        return self.image_replaced(st, target)

    _set(LifecycleRules, "insert", insert)


@wrong("group-fastest-first", "a group start joins the fastest map first")
def _group_fastest_first() -> None:
    right = LifecycleRules.group_order
    _set(LifecycleRules, "group_order", lambda self, sh, ts: right(self, sh, ts)[::-1])


@wrong("restore-needs-any-map", "a start onto the source of any map, idle or not, is a restore")
def _restore_any_map() -> None:
    def needs(self: Any, shape: Shape, target: str) -> bool:
        return any(m.source == target for _, m in shape.maps)

    _set(LifecycleRules, "needs_restore", needs)


@wrong("restore-never", "no start is ever a restore")
def _restore_never() -> None:
    _set(LifecycleRules, "needs_restore", lambda self, shape, target: False)


# -- restarts, stops, leaves and splits --------------------------------------------------


def _unlinked(st: Any, target: str) -> Any:
    """The state with the target unlinked and its stop forgotten, nothing else done."""
    shape = st.shape.remove(target)
    return st.evolve(
        shape=Shape(shape.volumes, shape.chains, shape.maps, shape.stopping - {target})
    )


@wrong("incremental-restart-copies-all", "an incremental restart forgets every grain it holds")
def _incremental_all() -> None:
    right = LifecycleRules.insert

    def insert(self: Any, st: Any, target: str) -> Any:
        st = right(self, st, target)
        return st.evolve(split={**st.split, target: const_like(st.split[target], False)})

    _set(LifecycleRules, "insert", insert)


@wrong("incremental-restart-keeps-record", "an incremental restart keeps its record of change")
def _incremental_keeps_record() -> None:
    right = LifecycleRules.insert

    def insert(self: Any, st: Any, target: str) -> Any:
        if target not in st.diff:  # only incremental maps have a record
            return right(self, st, target)
        before = st.diff[target]
        st = right(self, st, target)
        return st.evolve(diff={**st.diff, target: before})

    _set(LifecycleRules, "insert", insert)


def record_onto(self: Any, st: Any, volume: str) -> Any:
    """A volume's image replaced, recorded by the map onto it instead of the maps from it."""
    diff = dict(st.diff)
    if volume in diff:
        diff[volume] = const_like(diff[volume], True)
    return st.evolve(diff=diff)


@wrong("image-replaced-onto", "an image replaced is recorded by maps onto the volume, not from it")
def _replaced_onto() -> None:
    _set(LifecycleRules, "image_replaced", record_onto)


@wrong("stop-forgets-grains", "a stop clears the target's bits (it must clean them all)")
def _stop_forgets() -> None:
    right = LifecycleRules.begin_stop

    def stop(self: Any, st: Any, target: str) -> Any:
        st = right(self, st, target)
        return st.evolve(split={**st.split, target: const_like(st.split[target], False)})

    _set(LifecycleRules, "begin_stop", stop)


@wrong("incomplete-leave-no-record", "a target leaving incomplete does not tell maps copying it")
def _leave_no_record() -> None:
    _set(LifecycleRules, "leave", lambda self, st, target, complete: _unlinked(st, target))


@wrong("complete-leave-unchecked", "a completed copy may leave without holding every grain")
def _complete_unchecked() -> None:
    def may_leave(self: Any, st: Any, target: str, complete: bool, grain: Any) -> Any:
        return not_(self.needs_cleaning(st, target, grain))

    _set(LifecycleRules, "may_leave", may_leave)


@wrong("split-unchecked", "a split is allowed before the target holds every grain")
def _split_unchecked() -> None:
    _set(LifecycleRules, "may_split", lambda self, st, target, grain: True)


@wrong("split-as-leave", "a split unlinks the target; what hung below stays in the cascade")
def _split_as_leave() -> None:
    _set(LifecycleRules, "split", lambda self, st, target: _unlinked(st, target))
