"""Batch H of the self-audit's wrong rules (stop 31, written after batch G and blind to the
controls): where one of several alike things is served and the others forgotten — the second
cascade a target heads as an image, the second incremental map of one volume, two stopping
positions side by side — bits set where no copy was allowed, heads taken for frozen that are
not, a forced stop that forgets its own map was complete, a write bound that forgets image
cascades, removal and cleaning of image heads, and a group start whose point-in-time images
are taken one member after another.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from wrong_rules import _set, wrong

import proofs.steps
from model.logic import not_, select, store
from model.rules.cleaning import CleaningRules
from model.rules.copies import CopyRules
from model.rules.lifecycle import LifecycleRules
from model.rules.writes import WriteRules
from model.shape import IMAGE, PHYSICAL, Node, Shape
from model.state import State


@wrong(
    "readers-first-image-cascade-only",
    "a target position feeds only the first of the cascades its volume heads as an image",
)
def _readers_first_image_only() -> None:
    def readers(self: Shape, node: Node) -> list[Node]:
        ci, place = node
        out: list[Node] = []
        if place < len(self.chains[ci].targets):
            out.append((ci, place + 1))
        if place > 0:
            volume = self.volume_at(node)
            linked = [
                (cj, 1)
                for cj, c in enumerate(self.chains)
                if c.head == volume and c.head_mode == IMAGE and c.targets
            ]
            out += linked[:1]
        return out

    _set(Shape, "readers", readers)


@wrong(
    "diff-first-incremental-only",
    "a write records the change in the first incremental map from or onto the volume only",
)
def _diff_first_only() -> None:
    def record_difference(self: WriteRules, st: State, volume: str, grain: Any) -> State:
        diff = dict(st.diff)
        for target in diff:
            if volume in (target, st.shape.map_of(target).source):
                diff[target] = store(diff[target], grain, True)
                break
        return st.evolve(diff=diff)

    _set(WriteRules, "record_difference", record_difference)


@wrong(
    "copy-bit-regardless-of-guard",
    "a copy marks the target as holding the grain even where its guard forbade the copy",
)
def _copy_bit_regardless() -> None:
    right = CopyRules.copy_into

    def copy_into(
        self: CopyRules,
        st: State,
        node: Node,
        grain: Any,
        kind: str,
        guard: Any = True,
        busy: frozenset[str] = frozenset(),
    ) -> State:
        st = right(self, st, node, grain, kind, guard, busy)
        volume = st.shape.volume_at(node)
        return st.evolve(split={**st.split, volume: store(st.split[volume], grain, True)})

    _set(CopyRules, "copy_into", copy_into)


@wrong(
    "frozen-includes-image-heads",
    "every head of a volume that is a target counts as frozen, image heads too",
)
def _frozen_image_heads() -> None:
    def is_frozen(self: Shape, node: Node) -> bool:
        chain = self.chains[node[0]]
        return node[1] == 0 and self.position(chain.head) is not None

    _set(Shape, "is_frozen", is_frozen)


@wrong(
    "forced-stop-forgets-complete",
    "a forced stop of a complete copy takes the target's image as if it were incomplete",
)
def _forced_forgets_complete() -> None:
    right = LifecycleRules.force_stop

    def force_stop(
        self: LifecycleRules, st: State, target: str, victims: list[str], complete: bool
    ) -> State:
        return right(self, st, target, victims, False)

    _set(LifecycleRules, "force_stop", force_stop)


@wrong(
    "group-images-one-after-another",
    "a group start gives each target its source's image after the members before it started",
)
def _group_sequential() -> None:
    def start_images(images: Any, pairs: Any) -> dict[str, Any]:
        new = dict(images)
        for source, target in pairs:
            new[target] = new[source]
        return new

    proofs.steps.start_images = start_images  # the ghost's rule 1, as the proofs step it


@wrong(
    "clean-image-first-even-if-held",
    "cleaning owes the first target of an image cascade the grain even when it holds it",
)
def _clean_image_first_held() -> None:
    right = CleaningRules.clean_targets

    def clean_targets(
        self: CleaningRules, st: State, target: str, grain: Any
    ) -> list[tuple[Node, Any]]:
        out = right(self, st, target, grain)
        shape = st.shape
        held = select(st.split[target], grain)
        fixed = []
        for node, cond in out:
            chain = shape.chains[node[0]]
            if chain.head == target and chain.head_mode == IMAGE and node[1] == 1:
                cond = not_(held)
            fixed.append((node, cond))
        return fixed

    _set(CleaningRules, "clean_targets", clean_targets)


@wrong(
    "attach-skips-image-heads",
    "a start from a target joins only cascades its source heads physically",
)
def _attach_skips_image() -> None:
    def attach_point(self: LifecycleRules, shape: Shape, source: str, kind: str) -> Node | None:
        own = shape.position(source)
        if own is not None and shape.chains[own[0]].kind == kind:
            return own
        for head in shape.heads_of(source):
            chain = shape.chains[head[0]]
            if chain.kind == kind and chain.head_mode == PHYSICAL and not shape.is_frozen(head):
                return head
        return None

    _set(LifecycleRules, "attach_point", attach_point)


@wrong(
    "remove-keeps-image-heads",
    "a target leaving keeps the heads that present its image in image mode",
)
def _remove_keeps_image() -> None:
    def remove(self: Shape, target: str) -> Shape:
        chains = []
        for c in self.chains:
            if target in c.targets:
                c = replace(c, targets=tuple(t for t in c.targets if t != target))
            if c.targets:
                chains.append(c)
        return replace(self, chains=tuple(chains))

    _set(Shape, "remove", remove)


@wrong(
    "write-reach-skips-image-readers",
    "the write bound counts the next position of each node, not the cascades headed by images",
)
def _reach_skips_image() -> None:
    right = Shape.write_reach

    def write_reach(self: Shape, volume: str) -> set[Node]:
        reach = right(self, volume)
        return {n for n in reach if not (self.chains[n[0]].head_mode == IMAGE and n[1] == 1)}

    _set(Shape, "write_reach", write_reach)


@wrong(
    "clean-skips-stopping-next",
    "cleaning owes nothing to a next target that is itself stopping",
)
def _clean_skips_stopping_next() -> None:
    right = CleaningRules.clean_targets

    def clean_targets(
        self: CleaningRules, st: State, target: str, grain: Any
    ) -> list[tuple[Node, Any]]:
        shape = st.shape
        node = shape.position(target)
        assert node is not None
        ci, place = node
        out = right(self, st, target, grain)
        if place < len(shape.chains[ci].targets):
            nxt = shape.chains[ci].targets[place]
            if nxt in shape.stopping:
                out = [(n, c) for n, c in out if n != (ci, place + 1)]
        return out

    _set(CleaningRules, "clean_targets", clean_targets)


@wrong(
    "partial-write-fills-from-own-grain",
    "a partial write to a target lacking the grain merges into what it physically holds",
)
def _fill_from_own() -> None:
    def fill(self: WriteRules, st: State, volume: str, grain: Any, whole: bool) -> State:
        node = st.shape.position(volume)
        if node is None:
            return st
        return st.evolve(split={**st.split, volume: store(st.split[volume], grain, True)})

    _set(WriteRules, "fill", fill)


@wrong(
    "copy-reports-upstream-kind-through-image-heads",
    "a copy through an image head reports the kind of the position it came from, not the head",
)
def _image_head_kind() -> None:
    from model.rules.reads import ReadRules, Resolved

    right = ReadRules._resolve

    def _resolve(self: ReadRules, st: State, node: Node, grain: Any) -> Resolved:
        shape = st.shape
        if node[1] == 0 and shape.chains[node[0]].head_mode == IMAGE:
            return self.resolve(st, shape.image_source(node), grain)
        return right(self, st, node, grain)

    _set(ReadRules, "_resolve", _resolve)


@wrong(
    "prepare-records-source",
    "preparing a map records the change in the incremental maps of its source, not its target",
)
def _prepare_records_source() -> None:
    def prepare(self: LifecycleRules, st: State, target: str) -> State:
        return self.image_replaced(st, st.shape.map_of(target).source)

    _set(LifecycleRules, "prepare", prepare)
