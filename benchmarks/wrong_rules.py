"""Plausible wrong rules for the self-audit of `prove` (`benchmarks/self_audit.py`): each a
patch that puts one wrong rule into the specification. Batch A (this module) was written in
stop 21, blind to the controls; batch B (`wrong_rules_b.py`) in stop 22, across the classes
batch A did not try; batch C (`wrong_rules_c.py`) after it, at the parts of `model/` neither
touched.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.logic import and_, eq, ite, not_, or_, select, store  # noqa: E402
from model.rules.cleaning import CleaningRules  # noqa: E402
from model.rules.copies import CopyRules  # noqa: E402
from model.rules.lifecycle import LifecycleRules  # noqa: E402
from model.rules.reads import KIND_CODES  # noqa: E402
from model.rules.writes import WriteRules  # noqa: E402
from model.shape import IMAGE, Shape  # noqa: E402
from model.state import Copy  # noqa: E402

WRONG: dict[str, tuple[str, Callable[[], None]]] = {}
BATCH: dict[str, str] = {}


def wrong(name: str, what: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Register a patch that puts one wrong rule into the specification."""

    def register(patch: Callable[[], None]) -> Callable[[], None]:
        WRONG[name] = (what, patch)
        tail = patch.__module__.rsplit("wrong_rules", 1)[-1]
        BATCH[name] = tail.lstrip("_") or "a"  # wrong_rules_b -> b
        return patch

    return register


def _set(cls: type, name: str, fn: Any) -> None:
    setattr(cls, name, fn)


# -- starts and groups -----------------------------------------------------------------------


@wrong("group-first-two-sorted", "a group start puts only its first two members in rate order")
def _group_first_two() -> None:
    right = LifecycleRules.group_order
    _set(LifecycleRules, "group_order", lambda self, sh, ts: right(self, sh, ts[:2]) + ts[2:])


@wrong("group-ties-by-name", "equal copy rates keep the order members are named in")
def _group_ties_by_name() -> None:
    _set(
        LifecycleRules,
        "group_order",
        lambda self, sh, ts: sorted(ts, key=lambda t: sh.map_of(t).copy_rate),
    )


@wrong("group-ties-reversed", "equal copy rates: the one created first nearest the source")
def _group_ties_reversed() -> None:
    def order(self: Any, sh: Shape, ts: list[str]) -> list[str]:
        return sorted(ts, key=lambda t: (sh.map_of(t).copy_rate, -sh.map_of(t).order))

    _set(LifecycleRules, "group_order", order)


@wrong("group-last-member-first", "a group of three or more joins its last member first")
def _group_last_first() -> None:
    right = LifecycleRules.group_order

    def order(self: Any, sh: Shape, ts: list[str]) -> list[str]:
        out = right(self, sh, ts)
        return out[-1:] + out[:-1] if len(out) > 2 else out

    _set(LifecycleRules, "group_order", order)


@wrong("attach-heads-first", "a start prefers a head its source presents over its own position")
def _attach_heads_first() -> None:
    def attach(self: Any, sh: Shape, source: str, kind: str) -> Any:
        for head in sh.heads_of(source):
            if sh.chains[head[0]].kind == kind and not sh.is_frozen(head):
                return head
        own = sh.position(source)
        return own if own is not None and sh.chains[own[0]].kind == kind else None

    _set(LifecycleRules, "attach_point", attach)


@wrong("attach-joins-frozen", "a start may join a frozen head (old grains) of its source")
def _attach_frozen() -> None:
    def attach(self: Any, sh: Shape, source: str, kind: str) -> Any:
        own = sh.position(source)
        if own is not None and sh.chains[own[0]].kind == kind:
            return own
        return next((h for h in sh.heads_of(source) if sh.chains[h[0]].kind == kind), None)

    _set(LifecycleRules, "attach_point", attach)


@wrong("own-position-any-kind", "a start joins its source's position whatever its kind")
def _own_any_kind() -> None:
    right = LifecycleRules.attach_point

    def attach(self: Any, sh: Shape, source: str, kind: str) -> Any:
        return sh.position(source) or right(self, sh, source, kind)

    _set(LifecycleRules, "attach_point", attach)


@wrong("restore-snapshot-sources-only", "only the source of an active snapshot needs restore")
def _restore_snapshots() -> None:
    def needs(self: Any, sh: Shape, target: str) -> bool:
        return any(
            sh.map_of(t).source == target and sh.map_of(t).type == "snapshot" for t in sh.active()
        )

    _set(LifecycleRules, "needs_restore", needs)


def _restart_keeps_bits(incremental: bool) -> None:
    """A restart of a map of this kind keeps the target's old split bits."""
    right = LifecycleRules.insert

    def insert(self: Any, st: Any, target: str) -> Any:
        out = right(self, st, target)
        if target in st.split and st.shape.map_of(target).incremental == incremental:
            out = out.evolve(split={**out.split, target: st.split[target]})
        return out

    _set(LifecycleRules, "insert", insert)


wrong("start-keeps-bits", "a plain restart keeps the grains its target held")(
    lambda: _restart_keeps_bits(False)
)
wrong("incremental-keeps-changed", "an incremental restart keeps grains changed since")(
    lambda: _restart_keeps_bits(True)
)


# -- writes and copies ----------------------------------------------------------------------


@wrong("write-first-node-only", "a write preserves the readers of the volume's first node only")
def _write_first_node() -> None:
    def readers(self: Any, st: Any, volume: str) -> list:
        sh, out = st.shape, []
        for node in sh.nodes_of(volume)[:1]:
            if not (node[1] == 0 and sh.chains[node[0]].head_mode == IMAGE):
                out += sh.readers(node)
        return out

    _set(WriteRules, "write_readers", readers)


@wrong("write-skips-frozen-heads", "a write preserves no reader of the volume's frozen heads")
def _write_skips_frozen() -> None:
    right = WriteRules.write_readers

    def readers(self: Any, st: Any, volume: str) -> list:
        sh = st.shape
        frozen = [r for h in sh.heads_of(volume) if sh.is_frozen(h) for r in sh.readers(h)]
        return [n for n in right(self, st, volume) if n not in frozen]

    _set(WriteRules, "write_readers", readers)


@wrong("cow-snapshots-only", "copy-on-write only into snapshots (clones copy anyway)")
def _cow_snapshots() -> None:
    right = WriteRules.write_readers

    def readers(self: Any, st: Any, volume: str) -> list:
        sh = st.shape
        return [n for n in right(self, st, volume) if sh.map_of(sh.volume_at(n)).type == "snapshot"]

    _set(WriteRules, "write_readers", readers)


@wrong("readers-same-kind-only", "a target feeds only linked cascades of its own kind")
def _readers_same_kind() -> None:
    def readers(self: Shape, node: Any) -> list:
        ci, place = node
        out = [(ci, place + 1)] if place < len(self.chains[ci].targets) else []
        if place > 0:
            volume, kind = self.volume_at(node), self.chains[ci].kind
            out += [
                (cj, 1)
                for cj, c in enumerate(self.chains)
                if c.head == volume and c.head_mode == IMAGE and c.targets and c.kind == kind
            ]
        return out

    _set(Shape, "readers", readers)


@wrong("fill-snapshots-only", "a partial write to a clone target does not fill the grain")
def _fill_snapshots() -> None:
    right = WriteRules.fill

    def fill(self: Any, st: Any, volume: str, grain: Any, whole: bool) -> Any:
        if not whole and st.shape.position(volume) and st.shape.map_of(volume).type == "clone":
            return right(self, st, volume, grain, True)
        return right(self, st, volume, grain, whole)

    _set(WriteRules, "fill", fill)


@wrong("diff-source-writes-only", "a write to an incremental map's target is not recorded")
def _diff_source_only() -> None:
    def record(self: Any, st: Any, volume: str, grain: Any) -> Any:
        diff = {
            t: store(a, grain, True) if volume == st.shape.map_of(t).source else a
            for t, a in st.diff.items()
        }
        return st.evolve(diff=diff)

    _set(WriteRules, "record_difference", record)


@wrong("diff-whole-writes-only", "a partial write is not recorded as a difference")
def _diff_whole_only() -> None:
    right = WriteRules.host_write

    def write(self: Any, st: Any, volume: str, grain: Any, payload: Any, whole: bool) -> Any:
        out = right(self, st, volume, grain, payload, whole)
        return out if whole else out.evolve(diff=dict(st.diff))

    _set(WriteRules, "host_write", write)


@wrong("bound-ignores-restores", "the write bound is positions + 1, preservation uncounted")
def _bound_positions() -> None:
    _set(WriteRules, "write_bound", lambda self, sh, volume: sh.positions_count(volume) + 1)


@wrong("preserve-after-store", "a restore's preservation copies come after the grain changed")
def _preserve_after() -> None:
    def copy_into(
        self: Any,
        st: Any,
        node: Any,
        grain: Any,
        kind: str,
        guard: Any = True,
        busy: frozenset = frozenset(),
    ) -> Any:
        volume = st.shape.volume_at(node)
        held, seen = select(st.split[volume], grain), self.resolve(st, node, grain)
        moves = and_(guard, not_(held), not_(eq(seen.holder, st.shape.volumes.index(volume))))
        old = select(st.phys[volume], grain)
        st = st.evolve(
            phys={**st.phys, volume: store(st.phys[volume], grain, ite(moves, seen.value, old))},
            split={**st.split, volume: store(st.split[volume], grain, or_(held, guard))},
        )
        st = self.preserve_frozen_readers(st, volume, grain, moves, busy | {volume})
        return st.evolve(copies=(*st.copies, Copy(kind, volume, seen.holder, moves, seen.kind)))

    _set(CopyRules, "copy_into", copy_into)


@wrong("preserve-same-kind-only", "a restore preserves only frozen heads of its own kind")
def _preserve_same_kind() -> None:
    def preserve(self: Any, st: Any, volume: str, grain: Any, guard: Any, busy: Any) -> Any:
        sh, own = st.shape, st.shape.position(volume)
        for head in sh.heads_of(volume):
            same = own is not None and sh.chains[head[0]].kind == sh.chains[own[0]].kind
            if sh.is_frozen(head) and same:
                for reader in sh.readers(head):
                    if sh.volume_at(reader) not in busy:
                        st = self.copy_into(st, reader, grain, "clean", guard, busy)
                        sh = st.shape
        return st

    _set(CopyRules, "preserve_frozen_readers", preserve)


@wrong("preserve-ignores-guard", "preservation copies are made even when nothing changes")
def _preserve_unguarded() -> None:
    right = CopyRules.preserve_frozen_readers
    _set(
        CopyRules,
        "preserve_frozen_readers",
        lambda self, st, v, g, guard, busy: right(self, st, v, g, True, busy),
    )


@wrong("copy-ignores-guard", "a copy is made whether or not its condition holds")
def _copy_unguarded() -> None:
    right = CopyRules.copy_into

    def copy_into(
        self: Any,
        st: Any,
        node: Any,
        grain: Any,
        kind: str,
        guard: Any = True,
        busy: frozenset = frozenset(),
    ) -> Any:
        return right(self, st, node, grain, kind, True, busy)

    _set(CopyRules, "copy_into", copy_into)


@wrong("kind-codes-swapped", "the codes naming clone and snapshot positions swapped")
def _kind_codes() -> None:
    KIND_CODES["clone"], KIND_CODES["snapshot"] = KIND_CODES["snapshot"], KIND_CODES["clone"]


# -- cleaning, stops and leaving ------------------------------------------------------------


def _patch_clean(change: Callable[[Any, str, Any, Any, Any], Any]) -> None:
    right = CleaningRules.clean_targets

    def clean_targets(self: Any, st: Any, target: str, grain: Any) -> list:
        node = st.shape.position(target)
        out = []
        for reader, cond in right(self, st, target, grain):
            cond = change(st, target, grain, (node, reader), cond)
            if cond is not None:
                out.append((reader, cond))
        return out

    _set(CleaningRules, "clean_targets", clean_targets)


@wrong("linked-clean-inverted", "a linked cascade gets the grain iff the leaving target holds it")
def _linked_inverted() -> None:
    def change(st: Any, target: str, grain: Any, nodes: Any, cond: Any) -> Any:
        node, reader = nodes
        if reader[0] == node[0]:
            return cond
        first = st.shape.chains[reader[0]].targets[0]
        return and_(select(st.split[target], grain), not_(select(st.split[first], grain)))

    _patch_clean(change)


@wrong(
    "clean-next-ignores-restore",
    "the next target is cleaned even where the position before presents the same grain",
)
def _clean_next_same() -> None:
    def change(st: Any, target: str, grain: Any, nodes: Any, cond: Any) -> Any:
        node, reader = nodes
        if reader[0] != node[0]:
            return cond
        nxt = st.shape.chains[reader[0]].targets[reader[1] - 1]
        return and_(select(st.split[target], grain), not_(select(st.split[nxt], grain)))

    _patch_clean(change)


@wrong("clean-first-linked-only", "only the first linked cascade of a leaving target is cleaned")
def _clean_first_linked() -> None:
    right = CleaningRules.clean_targets

    def clean_targets(self: Any, st: Any, target: str, grain: Any) -> list:
        here = st.shape.position(target)[0]
        out = right(self, st, target, grain)
        linked = [i for i, (reader, _) in enumerate(out) if reader[0] != here]
        return [x for i, x in enumerate(out) if i not in linked[1:]]

    _set(CleaningRules, "clean_targets", clean_targets)


@wrong("needs-cleaning-all", "a position may leave once *some* reader no longer needs the grain")
def _needs_all() -> None:
    def needs(self: Any, st: Any, target: str, grain: Any) -> Any:
        conds = [c for _, c in self.clean_targets(st, target, grain)]
        return and_(*conds) if conds else False

    _set(CleaningRules, "needs_cleaning", needs)


@wrong(
    "stopped-leave-no-record", "a stopped copy leaves without incremental maps from it recording"
)
def _leave_no_record() -> None:
    def leave(self: Any, st: Any, target: str, complete: bool) -> Any:
        sh = st.shape.remove(target)
        return st.evolve(shape=Shape(sh.volumes, sh.chains, sh.maps, sh.stopping - {target}))

    _set(LifecycleRules, "leave", leave)


@wrong("victims-complete", "a forced stop's dependents leave as if complete")
def _victims_complete() -> None:
    def force(self: Any, st: Any, target: str, victims: list, complete: bool) -> Any:
        st = self.leave(st, target, complete)
        for victim in victims:
            st = self.leave(st, victim, True)
        return st

    _set(LifecycleRules, "force_stop", force)


@wrong("split-keeps-stopping", "a split leaves its map marked stopping")
def _split_stopping() -> None:
    _set(LifecycleRules, "split", lambda self, st, target: st.evolve(shape=st.shape.cut(target)))


@wrong("stop-ignores-clones", "a stop of a clone map does nothing")
def _stop_clones() -> None:
    right = LifecycleRules.begin_stop

    def stop(self: Any, st: Any, target: str) -> Any:
        return st if st.shape.map_of(target).type == "clone" else right(self, st, target)

    _set(LifecycleRules, "begin_stop", stop)


@wrong("prepare-does-nothing", "a prepare leaves incremental maps from its target as they were")
def _prepare_nothing() -> None:
    _set(LifecycleRules, "prepare", lambda self, st, target: st)


@wrong("revive-no-record", "a revived target's incremental maps are not told its image changed")
def _revive_no_record() -> None:
    def revive(self: Any, st: Any, target: str) -> Any:
        return st.evolve(
            shape=st.shape.without_map(target),
            split={t: a for t, a in st.split.items() if t != target},
            diff={t: a for t, a in st.diff.items() if t != target},
        )

    _set(LifecycleRules, "revive", revive)


@wrong("revive-keeps-bitmaps", "a forced delete keeps the deleted map's bitmaps")
def _revive_keeps() -> None:
    _set(
        LifecycleRules,
        "revive",
        lambda self, st, target: st.evolve(shape=st.shape.without_map(target)),
    )
