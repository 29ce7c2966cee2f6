"""Grain copies: a target receives exactly what it reads, so no image changes."""

from __future__ import annotations

from typing import Any

from ..logic import and_, eq, ite, not_, or_, select, store
from ..shape import Node
from ..state import Copy, State
from .reads import ReadRules


class CopyRules(ReadRules):
    """Copying a grain into a target position, and the cleaning write it may need first."""

    def copy_into(
        self,
        st: State,
        node: Node,
        grain: Any,
        kind: str,
        guard: Any = True,
        busy: frozenset[str] = frozenset(),
    ) -> State:
        """Copy-into rule: when `guard` holds and the target lacks the grain, it gets the value
        it currently reads; a value already physically there only sets the bit."""
        shape = st.shape
        volume = shape.volume_at(node)
        held = select(st.split[volume], grain)
        seen = self.resolve(st, node, grain)
        moves = and_(guard, not_(held), not_(eq(seen.holder, shape.volumes.index(volume))))
        st = self.preserve_frozen_readers(st, volume, grain, moves, busy | {volume})
        old = select(st.phys[volume], grain)
        return st.evolve(
            phys={**st.phys, volume: store(st.phys[volume], grain, ite(moves, seen.value, old))},
            split={**st.split, volume: store(st.split[volume], grain, or_(held, guard))},
            copies=(*st.copies, Copy(kind, volume, seen.holder, moves, seen.kind)),
        )

    def preserve_frozen_readers(
        self, st: State, volume: str, grain: Any, guard: Any, busy: frozenset[str]
    ) -> State:
        """Cleaning-write rule (restore): before a target's physical grain changes, every reader
        of one of its frozen heads that lacks the grain gets its own copy (a reader already
        being copied into in this chain of copies reads the volume itself: nothing to keep)."""
        for head in st.shape.heads_of(volume):
            if st.shape.is_frozen(head):
                for reader in st.shape.readers(head):
                    if st.shape.volume_at(reader) not in busy:
                        st = self.copy_into(st, reader, grain, "clean", guard, busy)
        return st
