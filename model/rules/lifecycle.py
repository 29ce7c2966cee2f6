"""Starting maps into cascades, and positions leaving them."""

from __future__ import annotations

from typing import Any

from ..logic import and_, and_not, const_like, not_, select
from ..shape import MIXED, Node, Shape
from ..state import State
from .cleaning import CleaningRules


class LifecycleRules(CleaningRules):
    """Insertion, background copy, stop, completion, split, restore and groups."""

    policy = "per-type"

    # -- where a target goes ---------------------------------------------------------
    def cascade_kind(self, map_type: str) -> str:
        """Per-type rule: a map joins a cascade of its own type; mixed: one kind for all."""
        return map_type if self.policy == "per-type" else MIXED

    def attach_point(self, shape: Shape, source: str, kind: str) -> Node | None:
        """Insertion rule: directly after the source's current position in a cascade of the
        kind — its target position, else a head presenting its current image — or a new one."""
        own = shape.position(source)
        if own is not None and shape.chains[own[0]].kind == kind:
            return own
        for head in shape.heads_of(source):
            chain = shape.chains[head[0]]
            if chain.kind == kind and not shape.is_frozen(head):
                return head
        return None

    def group_order(self, shape: Shape, targets: list[str]) -> list[str]:
        """Copy-rate rule: maps started together join slowest first, so the fastest ends
        nearest its source; equal rates keep creation order."""
        return sorted(targets, key=lambda t: (shape.map_of(t).copy_rate, shape.map_of(t).order))

    def needs_restore(self, shape: Shape, target: str) -> bool:
        """Restore rule: starting a map onto a volume that is the source of another active map
        (one whose target holds a cascade position) needs restore."""
        return any(shape.map_of(t).source == target for t in shape.active())

    # -- start --------------------------------------------------------------------------
    def start(self, st: State, targets: list[str]) -> State:
        """Start rule: every target joins a cascade after its source, in copy-rate order; its
        bits restart empty, or for an incremental map keep the grains unchanged since the last
        start. (That each then reads its source's image is proved, not assumed.)"""
        for target in self.group_order(st.shape, targets):
            st = self.insert(st, target)
        return st

    def insert(self, st: State, target: str) -> State:
        """One target into its cascade, with its bitmaps reset."""
        info = st.shape.map_of(target)
        kind = self.cascade_kind(info.type)
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

    def image_replaced(self, st: State, volume: str) -> State:
        """A volume's image changed wholesale: incremental maps copying it record every grain."""
        diff = dict(st.diff)
        for target in diff:
            if st.shape.map_of(target).source == volume:
                diff[target] = const_like(diff[target], True)
        return st.evolve(diff=diff)

    # -- background work ------------------------------------------------------------------
    def background_copy(self, st: State, target: str, grain: Any) -> State:
        """Background-copy rule: a clone's target takes a grain it lacks from upstream."""
        node = st.shape.position(target)
        assert node is not None
        return self.copy_into(st, node, grain, "background")

    # -- leaving a cascade -------------------------------------------------------------------
    def begin_stop(self, st: State, target: str) -> State:
        """Stop rule: the map goes stopping; its position stays while it cleans."""
        shape = st.shape
        return st.evolve(
            shape=Shape(shape.volumes, shape.chains, shape.maps, shape.stopping | {target})
        )

    def leave(self, st: State, target: str, complete: bool) -> State:
        """Leave rule: once no reader needs it, the position goes; a complete target stays an
        independent volume, an incomplete one's image is gone (incremental maps from it
        record every grain)."""
        shape = st.shape.remove(target)
        shape = Shape(shape.volumes, shape.chains, shape.maps, shape.stopping - {target})
        st = st.evolve(shape=shape)
        return st if complete else self.image_replaced(st, target)

    def may_leave(self, st: State, target: str, complete: bool, grain: Any) -> Any:
        """Leave precondition, at one grain: no reader still needs the grain from the
        position, and a completed copy holds it."""
        clean = not_(self.needs_cleaning(st, target, grain))
        return and_(clean, select(st.split[target], grain)) if complete else clean

    def may_split(self, st: State, target: str, grain: Any) -> Any:
        """Split precondition, at one grain: the target holds it (progress is 100%)."""
        return select(st.split[target], grain)

    def split(self, st: State, target: str) -> State:
        """Split rule: a complete target cuts its cascade and heads what hung below it."""
        shape = st.shape.cut(target)
        return st.evolve(
            shape=Shape(shape.volumes, shape.chains, shape.maps, shape.stopping - {target})
        )

    def force_stop(self, st: State, target: str, victims: list[str], complete: bool) -> State:
        """Forced-stop rule: the position and its dependents go at once, without cleaning
        (the dependents' images are lost, and the target's too unless it was complete)."""
        st = self.leave(st, target, complete)
        for victim in victims:
            st = self.leave(st, victim, complete=False)
        return st

    def prepare(self, st: State, target: str) -> State:
        """Prepare rule: the target's cached contents are discarded: it has no image."""
        return self.image_replaced(st, target)

    def revive(self, st: State, target: str) -> State:
        """Forced delete of a stopped map: the map is gone and the target is back, reading
        whatever it physically holds."""
        st = st.evolve(
            shape=st.shape.without_map(target),
            split={t: a for t, a in st.split.items() if t != target},
            diff={t: a for t, a in st.diff.items() if t != target},
        )
        return self.image_replaced(st, target)
