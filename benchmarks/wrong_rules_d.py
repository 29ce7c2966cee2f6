"""Batch D of the self-audit's wrong rules (stop 27): written blind to the controls and to the
earlier batches' findings, at what those batches held constant — groups larger or wider than
the ones enumerated, stopping maps (a stopping target still sits in its cascade), the
preservation copies of a restore made by a fill, a background copy or a cleaning copy rather
than by a copy-on-write, and the head of a new cascade from a volume that is itself a target.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from wrong_rules import _set, wrong
from wrong_rules_b import record_onto

from model.logic import and_, not_, select
from model.rules.cleaning import CleaningRules
from model.rules.copies import CopyRules
from model.rules.lifecycle import LifecycleRules
from model.rules.writes import WriteRules
from model.shape import IMAGE, PHYSICAL, Chain, Node, Shape
from model.state import State


@contextlib.contextmanager
def _doing_nothing(spec: Any, rule: str) -> Iterator[None]:
    """While inside, `spec.rule(st, ...)` returns the state it was given (a rule skipped)."""
    setattr(spec, rule, lambda st, *_: st)
    try:
        yield
    finally:
        delattr(spec, rule)


# -- groups -----------------------------------------------------------------------------------


@wrong("group-sorts-first-four", "a group start puts only its first four members in rate order")
def _group_first_four() -> None:
    right = LifecycleRules.group_order
    _set(LifecycleRules, "group_order", lambda self, sh, ts: right(self, sh, ts[:4]) + ts[4:])


@wrong(
    "group-sorts-first-source-only",
    "a group start puts in rate order only the members copying its first member's source",
)
def _group_first_source() -> None:
    right = LifecycleRules.group_order

    def order(self: LifecycleRules, shape: Shape, targets: list[str]) -> list[str]:
        first = shape.map_of(targets[0]).source
        mine = [t for t in targets if shape.map_of(t).source == first]
        return right(self, shape, mine) + [t for t in targets if t not in mine]

    _set(LifecycleRules, "group_order", order)


# -- stopping maps --------------------------------------------------------------------------


@wrong("restore-ignores-stopping", "a stopping map's source is not counted as restored onto")
def _restore_ignores_stopping() -> None:
    def needs(self: LifecycleRules, shape: Shape, target: str) -> bool:
        return any(
            shape.map_of(t).source == target for t in shape.active() if t not in shape.stopping
        )

    _set(LifecycleRules, "needs_restore", needs)


@wrong("cow-skips-stopping", "a copy-on-write skips readers whose map is stopping")
def _cow_skips_stopping() -> None:
    right = WriteRules.write_readers

    def readers(self: WriteRules, st: State, volume: str) -> list[Node]:
        return [
            r for r in right(self, st, volume) if st.shape.volume_at(r) not in st.shape.stopping
        ]

    _set(WriteRules, "write_readers", readers)


@wrong(
    "stopping-writes-next-only",
    "a write to a stopping target copies only into the next position of its cascade",
)
def _stopping_next_only() -> None:
    right = WriteRules.write_readers

    def readers(self: WriteRules, st: State, volume: str) -> list[Node]:
        out = right(self, st, volume)
        node = st.shape.position(volume)
        if volume in st.shape.stopping and node is not None:
            return [r for r in out if r == (node[0], node[1] + 1)]
        return out

    _set(WriteRules, "write_readers", readers)


@wrong("stopped-leave-needs-held", "a stopped target leaves only once it holds the grain too")
def _stopped_leave_needs_held() -> None:
    def may_leave(self: LifecycleRules, st: State, target: str, complete: bool, g: Any) -> Any:
        clean = not_(self.needs_cleaning(st, target, g))
        return and_(clean, select(st.split[target], g))

    _set(LifecycleRules, "may_leave", may_leave)


@wrong("clean-next-snapshots-only", "cleaning copies into the next target only if a snapshot")
def _clean_next_snapshots() -> None:
    right = CleaningRules.clean_targets

    def targets(self: CleaningRules, st: State, target: str, g: Any) -> list[tuple[Node, Any]]:
        node = st.shape.position(target)
        assert node is not None
        out = right(self, st, target, g)
        nxt = (node[0], node[1] + 1)
        return [
            (n, c)
            for n, c in out
            if n != nxt or st.shape.map_of(st.shape.volume_at(n)).type == "snapshot"
        ]

    _set(CleaningRules, "clean_targets", targets)


# -- preservation copies made by something other than a copy-on-write ------------------------


def _no_preservation_for(kind: str) -> None:
    """Copies of `kind` into a restored volume change its grain without preserving first."""
    right = CopyRules.copy_into

    def copy_into(self: CopyRules, st: State, node: Node, g: Any, k: str, *a: Any, **kw: Any):
        if k != kind:
            return right(self, st, node, g, k, *a, **kw)
        with _doing_nothing(self, "preserve_frozen_readers"):
            return right(self, st, node, g, k, *a, **kw)

    _set(CopyRules, "copy_into", copy_into)


@wrong("fill-skips-preservation", "a partial write's fill into a restored volume preserves nothing")
def _fill_skips_preservation() -> None:
    _no_preservation_for("fill")


@wrong(
    "background-skips-preservation",
    "a background copy into a restored volume preserves nothing for its frozen heads' readers",
)
def _background_skips_preservation() -> None:
    _no_preservation_for("background")


@wrong(
    "clean-skips-preservation",
    "a cleaning copy into a restored volume preserves nothing for its frozen heads' readers",
)
def _clean_skips_preservation() -> None:
    _no_preservation_for("clean")


# -- where a new cascade's head reads -------------------------------------------------------


@wrong(
    "new-cascade-head-physical",
    "a new cascade from a volume that is itself a target presents that volume's grains",
)
def _new_head_physical() -> None:
    def insert_after(self: Shape, node: Node | None, source: str, target: str, kind: str):
        if node is not None:
            ci, place = node
            chains = list(self.chains)
            c = chains[ci]
            chains[ci] = replace(c, targets=(*c.targets[:place], target, *c.targets[place:]))
            return replace(self, chains=tuple(chains))
        return replace(self, chains=(*self.chains, Chain(kind, source, PHYSICAL, (target,))))

    _set(Shape, "insert_after", insert_after)


# -- off by one at a cascade's end ----------------------------------------------------------


@wrong("readers-skip-last", "a position before a cascade's last target does not count it a reader")
def _readers_skip_last() -> None:
    right = Shape.readers

    def readers(self: Shape, node: Node) -> list[Node]:
        ci, place = node
        last = (ci, len(self.chains[ci].targets))
        return [r for r in right(self, node) if r != last or place == 0]

    _set(Shape, "readers", readers)


@wrong("clean-skips-last", "a leaving target cleans into the next only if it is not the last")
def _clean_skips_last() -> None:
    right = CleaningRules.clean_targets

    def targets(self: CleaningRules, st: State, target: str, g: Any) -> list[tuple[Node, Any]]:
        node = st.shape.position(target)
        assert node is not None
        last = (node[0], len(st.shape.chains[node[0]].targets))
        return [(n, c) for n, c in right(self, st, target, g) if n != last]

    _set(CleaningRules, "clean_targets", targets)


# -- the write bound and the record of change --------------------------------------------------


@wrong("write-reach-one-level", "the write bound counts one level of preservation copies only")
def _reach_one_level() -> None:
    def reach(self: Shape, volume: str) -> set:
        own = self.position(volume)
        out: set = {own} if own else set()
        for node in self.nodes_of(volume):
            if not (node[1] == 0 and self.chains[node[0]].head_mode == IMAGE):
                out.update(self.readers(node))
        for r in list(out):
            for head in self.heads_of(self.volume_at(r)):
                if self.is_frozen(head):
                    out.update(self.readers(head))
        return out

    _set(Shape, "write_reach", reach)


@wrong(
    "restart-records-nothing",
    "an incremental restart does not record change for the maps that copy its target",
)
def _restart_records_nothing() -> None:
    right = LifecycleRules.insert

    def insert(self: LifecycleRules, st: State, target: str) -> State:
        if not st.shape.map_of(target).incremental:
            return right(self, st, target)
        with _doing_nothing(self, "image_replaced"):
            return right(self, st, target)

    _set(LifecycleRules, "insert", insert)


@wrong("prepare-records-onto", "a prepare records change for the maps onto the target, not from")
def _prepare_records_onto() -> None:
    _set(LifecycleRules, "prepare", record_onto)  # batch B's image-replaced-onto, for prepares


# -- forced stops and splits ---------------------------------------------------------------


@wrong("victims-leave-first", "a forced stop's dependents leave before the stopped target")
def _victims_first() -> None:
    def force_stop(
        self: LifecycleRules, st: State, target: str, victims: list[str], complete: bool
    ) -> State:
        for victim in victims:
            st = self.leave(st, victim, complete=False)
        return self.leave(st, target, complete)

    _set(LifecycleRules, "force_stop", force_stop)


@wrong("split-drops-image-heads", "a split target's image cascades are dropped, not re-headed")
def _split_drops_image_heads() -> None:
    right = Shape.cut

    def cut(self: Shape, target: str) -> Shape:
        gone = {
            (c.kind, c.targets) for c in self.chains if c.head == target and c.head_mode == IMAGE
        }
        out = right(self, target)
        return replace(out, chains=tuple(c for c in out.chains if (c.kind, c.targets) not in gone))

    _set(Shape, "cut", cut)


@wrong("preservation-labelled-cow", "a preservation copy is reported as a copy-on-write")
def _preservation_labelled_cow() -> None:
    right = CopyRules.preserve_frozen_readers

    def preserve(self: CopyRules, st: State, volume: str, g: Any, guard: Any, busy: Any) -> State:
        n = len(st.copies)
        st = right(self, st, volume, g, guard, busy)
        relabelled = tuple(replace(c, kind="cow") for c in st.copies[n:])
        return st.evolve(copies=(*st.copies[:n], *relabelled))

    _set(CopyRules, "preserve_frozen_readers", preserve)
