"""Host writes: preserve every direct reader, fill a partial grain, then write."""

from __future__ import annotations

from typing import Any

from ..logic import merge, select, store
from ..shape import IMAGE, Node, Shape
from ..state import State
from .copies import CopyRules


class WriteRules(CopyRules):
    """The write path of a volume in any number of cascades."""

    def write_readers(self, st: State, volume: str) -> list[Node]:
        """Targets reading the volume's data directly: through its target position, its
        physical heads, and (via its position) the cascades it heads as an image."""
        shape = st.shape
        out: list[Node] = []
        for node in shape.nodes_of(volume):
            image_head = node[1] == 0 and shape.chains[node[0]].head_mode == IMAGE
            if not image_head:
                out += shape.readers(node)
        return out

    def write_bound(self, shape: Shape, volume: str) -> int:
        """Bounded-work rule: a host write to a volume makes at most one grain copy into each
        position it can reach (`Shape.write_reach`), whatever the number of targets."""
        return len(shape.write_reach(volume))

    def host_write(self, st: State, volume: str, grain: Any, payload: Any, whole: bool) -> State:
        """Write rule: copy-on-write into each direct reader lacking the grain, fill the grain
        from the volume's image if the write is partial, apply the write, record differences."""
        for reader in self.write_readers(st, volume):
            st = self.copy_into(st, reader, grain, "cow")
        st = self.fill(st, volume, grain, whole)
        old = select(st.phys[volume], grain)
        new = payload if whole else merge(old, payload)
        st = st.evolve(phys={**st.phys, volume: store(st.phys[volume], grain, new)})
        return self.record_difference(st, volume, grain)

    def fill(self, st: State, volume: str, grain: Any, whole: bool) -> State:
        """Fill rule: a target lacking the grain first takes its image of it, unless the write
        covers the whole grain (then it simply holds the grain from now on)."""
        node = st.shape.position(volume)
        if node is None:
            return st
        if not whole:
            return self.copy_into(st, node, grain, "fill")
        return st.evolve(split={**st.split, volume: store(st.split[volume], grain, True)})

    def record_difference(self, st: State, volume: str, grain: Any) -> State:
        """Difference rule: incremental maps from or onto the volume mark the grain changed."""
        diff = dict(st.diff)
        for target in diff:
            if volume in (target, st.shape.map_of(target).source):
                diff[target] = store(diff[target], grain, True)
        return st.evolve(diff=diff)
