"""Negative controls: for each obligation, a deliberately wrong rule under which it must fail.

Each control is the specification with exactly one rule replaced. A proof whose control also
"proves" shows nothing; so the suite fails when any control passes. Where the wrong rule breaks
an image, the bounded search also turns it into a vocabulary trace from the empty system.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from model.logic import const_like, ite, not_, select
from model.rules import Spec
from model.shape import IMAGE, Node, Shape
from model.state import State


class AppendAtEnd(Spec):
    """Wrong insertion rule: a new target joins at the end of the cascade, not after its source."""

    def attach_point(self, shape: Shape, source: str, kind: str) -> Node | None:
        node = super().attach_point(shape, source, kind)
        if node is None:
            return None
        return node[0], len(shape.chains[node[0]].targets)


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


class RemovalWithoutCleaning(Spec):
    """Wrong stop rule: a stopped target leaves its cascade without cleaning."""

    def needs_cleaning(self, st: State, target: str, grain: Any) -> Any:
        return False


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


class CompletionWithDependents(Spec):
    """Wrong completion rule: a complete target leaves even while others read through it."""

    def may_leave(self, st: State, target: str, complete: bool, grain: Any) -> Any:
        if complete:
            return select(st.split[target], grain)
        return super().may_leave(st, target, complete, grain)


class ReadsThroughIdleMaps(Spec):
    """Wrong read rule: a target of a created but unstarted map reads through its source."""

    def image(self, st: State, volume: str, grain: Any) -> Any:
        if st.shape.position(volume) is None and volume in dict(st.shape.maps):
            return select(st.phys[st.shape.map_of(volume).source], grain)
        return super().image(st, volume, grain)


class SplitIncomplete(Spec):
    """Wrong split rule: a target splits from its cascade before it holds every grain."""

    def may_split(self, st: State, target: str, grain: Any) -> Any:
        return True


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


class NeverLeaves(Spec):
    """A position may never leave its cascade (stop and completion never end)."""

    def may_leave(self, st: State, target: str, complete: bool, grain: Any) -> Any:
        return False


class NeverSplits(Spec):
    """A target may never be split out."""

    def may_split(self, st: State, target: str, grain: Any) -> Any:
        return False


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


class CompletionWithoutEveryGrain(Spec):
    """Wrong completion rule: a copy counts as complete, and leaves, without holding every grain."""

    def may_leave(self, st: State, target: str, complete: bool, grain: Any) -> Any:
        return super().may_leave(st, target, False, grain)


class GroupOrderReversed(Spec):
    """Wrong copy-rate rule: maps started together join fastest first (the slowest ends nearest)."""

    def group_order(self, shape: Shape, targets: list[str]) -> list[str]:
        return list(reversed(super().group_order(shape, targets)))


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


class StopNeedsEveryGrain(Spec):
    """Wrong stop rule: a stopped copy may leave only once it holds every grain, as if complete."""

    def may_leave(self, st: State, target: str, complete: bool, grain: Any) -> Any:
        return super().may_leave(st, target, True, grain)


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


@dataclass(frozen=True)
class Control:
    """A wrong specification and the obligations that must fail under it."""

    name: str
    spec: type[Spec]
    must_fail: tuple[str, ...]

    @property
    def rule(self) -> str:
        """The wrong rule, in words."""
        return (self.spec.__doc__ or "").strip()

    def make(self) -> Spec:
        """An instance of the wrong specification."""
        return self.spec()


CONTROLS: tuple[Control, ...] = (
    Control("append-at-end", AppendAtEnd, ("insertion-keeps-images", "group-start-keeps-images")),
    Control("skip-middle-cow", SkipMiddleCopyOnWrite, ("write-keeps-images", "write-isolation")),
    Control(
        "cow-wrong-neighbour",
        CopyToWrongNeighbour,
        ("write-keeps-images", "unbounded-refines-spec"),
    ),
    Control(
        "no-partial-fill",
        NoPartialFill,
        ("write-keeps-images", "bmc-from-empty", "unbounded-forest-refines-spec"),
    ),
    Control("stale-read", StaleRead, ("write-keeps-images", "bmc-from-empty")),
    Control("removal-without-cleaning", RemovalWithoutCleaning, ("cleaning-keeps-images",)),
    Control(
        "cleaning-skips-linked",
        CleaningSkipsLinkedCascades,
        ("cleaning-keeps-images", "unbounded-forest-refines-spec"),
    ),
    Control("over-cleaning", OverCleaning, ("cleaning-minimal",)),
    Control("completion-with-dependents", CompletionWithDependents, ("cleaning-keeps-images",)),
    Control("reads-through-idle-maps", ReadsThroughIdleMaps, ("init",)),
    Control("split-incomplete", SplitIncomplete, ("stop-keeps-images",)),
    Control("types-ignored", TypesIgnored, ("type-separation", "unbounded-forest-refines-spec")),
    Control(
        "restore-forgets-others",
        RestoreForgetsOthers,
        ("copy-keeps-images", "unbounded-restore-refines-spec"),
    ),
    Control(
        "incremental-too-little",
        IncrementalCopiesTooLittle,
        ("insertion-keeps-images", "unbounded-incremental-refines-spec"),
    ),
    Control("copy-to-every-target", CopyToEveryTarget, ("bounded-work",)),
    Control(
        "first-reader-only",
        FirstReaderOnly,
        ("write-keeps-images", "unbounded-forest-refines-spec"),
    ),
    Control("first-frozen-head-only", FirstFrozenHeadOnly, ("write-keeps-images",)),
    Control("preservation-forgets-the-chain", PreservationForgetsTheChain, ("write-keeps-images",)),
    Control(
        "completion-without-every-grain", CompletionWithoutEveryGrain, ("completion-keeps-image",)
    ),
    Control("group-order-reversed", GroupOrderReversed, ("group-order",)),
    Control("restore-never-needed", RestoreNeverNeeded, ("restore-detected",)),
    Control("restore-always-needed", RestoreAlwaysNeeded, ("restore-detected",)),
    Control("replaced-image-not-recorded", ReplacedImageNotRecorded, ("incremental-records",)),
    Control("record-kept-at-start", RecordKeptAtStart, ("incremental-records",)),
    Control("stop-not-recorded", StopNotRecorded, ("shape-well-formed", "cleaning-keeps-images")),
    Control("never-joins", NeverJoins, ("shape-well-formed",)),
    Control("stopping-never-cleared", StoppingNeverCleared, ("shape-well-formed",)),
    Control("cleaning-never-done", CleaningNeverDone, ("progress",)),
    Control("stop-needs-every-grain", StopNeedsEveryGrain, ("progress",)),
    Control("background-copy-idle", BackgroundCopyIdle, ("progress",)),
    Control("copy-mislabelled", BackgroundCopyLabelledCow, ("copy-kinds",)),
    Control("fill-on-whole-writes", FillOnWholeWrites, ("whole-write-no-fill",)),
    # vacuity: a rule never enabled would make its obligations hold of nothing
    Control("never-leaves", NeverLeaves, ("cleaning-keeps-images",)),
    Control("never-splits", NeverSplits, ("stop-keeps-images",)),
    # tightness: a bound that still holds when loosened proves less than it says
    Control("loose-write-bound", LooseWriteBound, ("bounded-work-tight",)),
)


__all__ = ["CONTROLS", "Control"]
