"""Wrong rules about data: which grains are copied where, and what a read returns.

Each class is `Spec` with exactly one rule replaced — a copy-on-write that skips a reader, a
fill that is not made, cleaning that copies too much or too little, a read through the wrong
volume — for a control of `proofs/controls.py`.
"""

from __future__ import annotations

from typing import Any

from model.logic import const_like, ite, not_, select
from model.rules import Spec
from model.shape import IMAGE, Node, Shape
from model.state import State


class SkipMiddleCopyOnWrite(Spec):
    """Wrong write rule: a write to a target does not preserve the target downstream of it."""

    def write_readers(self, st: State, volume: str) -> list[Node]:
        if st.shape.position(volume) is not None:
            return []
        return super().write_readers(st, volume)


class CopyToWrongNeighbour(Spec):
    """Wrong write rule: a source write preserves the oldest target instead of the newest."""

    def write_readers(self, st: State, volume: str) -> list[Node]:
        out = []
        for ci, place in super().write_readers(st, volume):
            out.append((ci, len(st.shape.chains[ci].targets)) if place == 1 else (ci, place))
        return out


class NoPartialFill(Spec):
    """Wrong fill rule: a partial-grain write to a target does not fill the rest of the grain."""

    def fill(self, st: State, volume: str, grain: Any, whole: bool) -> State:
        return super().fill(st, volume, grain, whole) if whole else st


class CleaningSkipsLinkedCascades(Spec):
    """Wrong cleaning rule: cascades headed by the leaving target's image get no grains."""

    def clean_targets(self, st: State, target: str, grain: Any) -> list[tuple[Node, Any]]:
        node = st.shape.position(target)
        assert node is not None
        return [(n, c) for n, c in super().clean_targets(st, target, grain) if n[0] == node[0]]


class OverCleaning(Spec):
    """Wrong cleaning rule: the next target gets every grain it lacks, needed or not."""

    def clean_targets(self, st: State, target: str, grain: Any) -> list[tuple[Node, Any]]:
        out = super().clean_targets(st, target, grain)
        ci, place = st.shape.position(target)  # type: ignore[misc]
        if place < len(st.shape.chains[ci].targets):
            nxt = st.shape.chains[ci].targets[place]
            out = [(n, c) for n, c in out if n != (ci, place + 1)]
            out.append(((ci, place + 1), not_(select(st.split[nxt], grain))))
        return out


class ReadsThroughIdleMaps(Spec):
    """Wrong read rule: a target of a created but unstarted map reads through its source."""

    def image(self, st: State, volume: str, grain: Any) -> Any:
        if st.shape.position(volume) is None and volume in dict(st.shape.maps):
            return select(st.phys[st.shape.map_of(volume).source], grain)
        return super().image(st, volume, grain)


class TypesIgnored(Spec):
    """Wrong policy: clones and snapshots share one cascade (the prior art)."""

    def __init__(self) -> None:
        super().__init__("mixed")


class RestoreForgetsOthers(Spec):
    """Wrong restore rule: a restored source's old readers get no copy before it changes."""

    def preserve_frozen_readers(
        self, st: State, volume: str, grain: Any, guard: Any, busy: frozenset[str]
    ) -> State:
        return st


class IncrementalCopiesTooLittle(Spec):
    """Wrong refresh rule: an incremental restart keeps every grain, changed or not."""

    def insert(self, st: State, target: str) -> State:
        info = st.shape.map_of(target)
        if not info.incremental:
            return super().insert(st, target)
        kept = st.split[target]
        st = super().insert(st, target)
        return st.evolve(
            split={**st.split, target: kept},
            diff={**st.diff, target: const_like(st.diff[target], False)},
        )


class StaleRead(Spec):
    """Wrong read rule: a target that lacks a grain reads its head, skipping split targets."""

    def resolve(self, st: State, node: Node, grain: Any) -> Any:
        if node[1] > 1:
            here = super().resolve(st, node, grain)
            head = super().resolve(st, (node[0], 0), grain)
            volume = st.shape.volume_at(node)
            held = select(st.split[volume], grain)
            return type(here)(
                ite(held, here.value, head.value),
                ite(held, here.holder, head.holder),
                ite(held, here.kind, head.kind),
            )
        return super().resolve(st, node, grain)


class CopyToEveryTarget(Spec):
    """Wrong bound: a write copies into every target, not one per position (the naive engine)."""

    def write_readers(self, st: State, volume: str) -> list[Node]:
        out = list(super().write_readers(st, volume))
        for node in st.shape.nodes_of(volume):
            ci = node[0]
            out += [(ci, p) for p in range(node[1] + 2, len(st.shape.chains[ci].targets) + 1)]
        return out


class LooseWriteBound(Spec):
    """The bounded-work bound loosened by one (the rules themselves unchanged)."""

    def write_bound(self, shape: Shape, volume: str) -> int:
        return super().write_bound(shape, volume) + 1


class FirstReaderOnly(Spec):
    """Wrong write rule: each position of the written volume preserves the grain for its first
    direct reader only (the next position), not for cascades its image heads."""

    def write_readers(self, st: State, volume: str) -> list[Node]:
        out: list[Node] = []
        for node in st.shape.nodes_of(volume):
            image_head = node[1] == 0 and st.shape.chains[node[0]].head_mode == IMAGE
            if not image_head:
                out += st.shape.readers(node)[:1]
        return out


class FirstFrozenHeadOnly(Spec):
    """Wrong restore rule: before a restored volume's grain changes, only the readers of its
    first frozen head get a copy, not those of its other frozen heads."""

    def preserve_frozen_readers(
        self, st: State, volume: str, grain: Any, guard: Any, busy: frozenset[str]
    ) -> State:
        frozen = [h for h in st.shape.heads_of(volume) if st.shape.is_frozen(h)]
        for head in frozen[:1]:
            for reader in st.shape.readers(head):
                if st.shape.volume_at(reader) not in busy:
                    st = self.copy_into(st, reader, grain, "clean", guard, busy | {volume})
        return st


class TwoFrozenHeadsOnly(Spec):
    """Wrong restore rule: before a restored volume's grain changes, the readers of its first
    two frozen heads get a copy, not those of a third."""

    KEPT = 2  # how many frozen heads are preserved for

    def preserve_frozen_readers(
        self, st: State, volume: str, grain: Any, guard: Any, busy: frozenset[str]
    ) -> State:
        frozen = [h for h in st.shape.heads_of(volume) if st.shape.is_frozen(h)]
        for head in frozen[: self.KEPT]:
            for reader in st.shape.readers(head):
                if st.shape.volume_at(reader) not in busy:
                    st = self.copy_into(st, reader, grain, "clean", guard, busy)
        return st


class CleaningNeverDone(Spec):
    """Wrong clean rule: the next target needs the leaving target's grain even once it holds
    its own (cleaning copies nothing more, but the stop never ends)."""

    def clean_targets(self, st: State, target: str, grain: Any) -> list[tuple[Node, Any]]:
        out = []
        node = st.shape.position(target)
        assert node is not None
        for reader, cond in super().clean_targets(st, target, grain):
            if reader == (node[0], node[1] + 1):
                cond = select(st.split[target], grain)
            out.append((reader, cond))
        return out


class BackgroundCopyIdle(Spec):
    """Wrong background-copy rule: a grain of background copy copies nothing."""

    def background_copy(self, st: State, target: str, grain: Any) -> State:
        return st


class BackgroundCopyLabelledCow(Spec):
    """Wrong label: background copies are reported as copy-on-write."""

    def copy_into(
        self,
        st: State,
        node: Node,
        grain: Any,
        kind: str,
        guard: Any = True,
        busy: frozenset[str] = frozenset(),
    ) -> State:
        return super().copy_into(
            st, node, grain, "cow" if kind == "background" else kind, guard, busy
        )


class FillOnWholeWrites(Spec):
    """Wrong fill rule: a whole-grain write to a target lacking the grain fills it first."""

    def fill(self, st: State, volume: str, grain: Any, whole: bool) -> State:
        return super().fill(st, volume, grain, False)


class PreservationForgetsTheChain(Spec):
    """Wrong restore rule: a preservation copy does not remember the copies it is part of, so
    round a ring of restores it copies again and again, without end."""

    def copy_into(
        self,
        st: State,
        node: Node,
        grain: Any,
        kind: str,
        guard: Any = True,
        busy: frozenset[str] = frozenset(),
    ) -> State:
        return super().copy_into(st, node, grain, kind, guard)  # the chain's `busy` dropped
