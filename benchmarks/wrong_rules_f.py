"""Batch F of the self-audit's wrong rules (stop 28, written after batch E and blind to the
controls): the structural helpers of `model/shape.py` the rules lean on — the readers of a
cascade's last target, what a cut or a removal does to the cascades a volume heads as an
image — and insertion next to a frozen head, cleaning where the position before presents the
same grain, write readers beside an image cascade, a record of change too eager at
completion, and the split precondition. Two more were written and dropped: they were batch D's
`new-cascade-head-physical` and `restore-ignores-stopping` again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from wrong_rules import _set, wrong

from model.logic import and_, eq, not_, select
from model.rules.cleaning import CleaningRules
from model.rules.lifecycle import LifecycleRules
from model.rules.writes import WriteRules
from model.shape import IMAGE, PHYSICAL, Chain, Node, Shape
from model.state import State


@wrong(
    "last-target-feeds-no-image-cascade",
    "the last target of a cascade feeds no cascade headed by its image",
)
def _last_target_feeds_none() -> None:
    right = Shape.readers

    def readers(self: Shape, node: Node) -> list[Node]:
        out = right(self, node)
        ci, place = node
        if place > 0 and place == len(self.chains[ci].targets):
            return [r for r in out if r[0] == ci]
        return out

    _set(Shape, "readers", readers)


@wrong(
    "cut-keeps-image-heads", "a split leaves the cascades headed by the target's image as images"
)
def _cut_keeps_image_heads() -> None:
    def cut(self: Shape, target: str) -> Shape:
        node = self.position(target)
        assert node is not None
        ci, place = node
        c = self.chains[ci]
        chains = list(self.chains)
        chains[ci] = replace(c, targets=c.targets[: place - 1])
        chains.append(Chain(c.kind, target, PHYSICAL, c.targets[place:]))
        return replace(self, chains=tuple(x for x in chains if x.targets))

    _set(Shape, "cut", cut)


@wrong("attach-to-frozen-head", "a new copy of a restored volume joins its frozen head's cascade")
def _attach_to_frozen() -> None:
    def attach_point(self: LifecycleRules, shape: Shape, source: str, kind: str) -> Node | None:
        own = shape.position(source)
        if own is not None and shape.chains[own[0]].kind == kind:
            return own
        for head in shape.heads_of(source):
            if shape.chains[head[0]].kind == kind:
                return head
        return None

    _set(LifecycleRules, "attach_point", attach_point)


@wrong(
    "clean-ignores-same-grain",
    "cleaning owes the next target a grain even where the position before presents it",
)
def _clean_ignores_same() -> None:
    def clean_targets(
        self: CleaningRules, st: State, target: str, grain: Any
    ) -> list[tuple[Node, Any]]:
        shape = st.shape
        node = shape.position(target)
        assert node is not None
        held = select(st.split[target], grain)
        out: list[tuple[Node, Any]] = []
        ci, place = node
        same = eq(self.resolve(st, (ci, place - 1), grain).holder, shape.volumes.index(target))
        if place < len(shape.chains[ci].targets):
            nxt = shape.chains[ci].targets[place]
            out.append(((ci, place + 1), and_(held, not_(select(st.split[nxt], grain)))))
        for cj, chain in enumerate(shape.chains):
            if chain.head == target and chain.head_mode == IMAGE and chain.targets:
                first = chain.targets[0]
                out.append(
                    ((cj, 1), and_(not_(held), not_(select(st.split[first], grain)), not_(same)))
                )
        return out

    _set(CleaningRules, "clean_targets", clean_targets)


@wrong(
    "write-skips-physical-heads-beside-image",
    "a write skips its volume's physical heads' readers when it also heads an image cascade",
)
def _write_skips_physical_beside_image() -> None:
    right = WriteRules.write_readers

    def write_readers(self: WriteRules, st: State, volume: str) -> list[Node]:
        shape = st.shape
        heads = shape.heads_of(volume)
        if any(shape.chains[h[0]].head_mode == IMAGE for h in heads):
            physical = {
                r
                for h in heads
                if shape.chains[h[0]].head_mode == PHYSICAL
                for r in shape.readers(h)
            }
            return [r for r in right(self, st, volume) if r not in physical]
        return right(self, st, volume)

    _set(WriteRules, "write_readers", write_readers)


@wrong(
    "completion-records-everything",
    "a completed copy leaving records every grain changed for incremental maps from it",
)
def _completion_records_everything() -> None:
    right = LifecycleRules.leave

    def leave(self: LifecycleRules, st: State, target: str, complete: bool) -> State:
        return self.image_replaced(right(self, st, target, complete), target)

    _set(LifecycleRules, "leave", leave)


@wrong("split-any-time", "a split is allowed before the target holds every grain")
def _split_any_time() -> None:
    _set(LifecycleRules, "may_split", lambda self, st, target, grain: True)


@wrong(
    "removal-drops-image-cascades",
    "a leaving target's image cascades go with it, their targets left without a position",
)
def _removal_drops_image_cascades() -> None:
    def remove(self: Shape, target: str) -> Shape:
        chains = []
        for c in self.chains:
            if c.head == target and c.head_mode == IMAGE:
                continue
            if target in c.targets:
                c = replace(c, targets=tuple(t for t in c.targets if t != target))
            if c.targets:
                chains.append(c)
        return replace(self, chains=tuple(chains))

    _set(Shape, "remove", remove)
