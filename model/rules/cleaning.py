"""Cleaning: before a position leaves, every reader that would lose its grain gets a copy."""

from __future__ import annotations

from typing import Any

from ..logic import and_, any_of, eq, not_, select
from ..shape import IMAGE, Node
from ..state import State
from .writes import WriteRules


class CleaningRules(WriteRules):
    """Which grains a leaving position owes its readers, and copying them."""

    def clean_targets(self, st: State, target: str, grain: Any) -> list[tuple[Node, Any]]:
        """Clean rule: the next target needs the grain iff the leaving target holds it and the
        next does not; the first target of a cascade headed by the leaving target's image needs
        it iff the leaving target does not hold it (that head falls back to stale grains) —
        unless the position before presents this very grain (a volume restored onto itself)."""
        shape = st.shape
        node = shape.position(target)
        assert node is not None, f"{target} has no position"
        held = select(st.split[target], grain)
        out: list[tuple[Node, Any]] = []
        ci, place = node
        # the position before presents this same physical grain: nobody would see a change
        same = eq(self.resolve(st, (ci, place - 1), grain).holder, shape.volumes.index(target))
        if place < len(shape.chains[ci].targets):
            nxt = shape.chains[ci].targets[place]
            out.append(
                ((ci, place + 1), and_(held, not_(select(st.split[nxt], grain)), not_(same)))
            )
        for cj, chain in enumerate(shape.chains):
            if chain.head == target and chain.head_mode == IMAGE and chain.targets:
                first = chain.targets[0]
                out.append(
                    ((cj, 1), and_(not_(held), not_(select(st.split[first], grain)), not_(same)))
                )
        return out

    def needs_cleaning(self, st: State, target: str, grain: Any) -> Any:
        """Some reader still needs this grain from the target's position."""
        return any_of(cond for _, cond in self.clean_targets(st, target, grain))

    def clean_grain(self, st: State, target: str, grain: Any) -> State:
        """One cleaning step: copy the grain into every reader that needs it."""
        for node, cond in self.clean_targets(st, target, grain):
            st = self.copy_into(st, node, grain, "clean", cond)
        return st
