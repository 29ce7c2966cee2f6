"""Host reads and writes, grain copies, and what a position's removal would cost."""

from __future__ import annotations

from .errors import OpError
from .maps import Map
from .state import EngineState
from .topology import CHAIN, HEAD, IMAGE, PHYSICAL


class DataPath(EngineState):
    """Read redirection, copy-on-write, fills, cleaning work and dependency."""

    # -- host I/O ------------------------------------------------------------
    def _check_range(self, volume: str, block: int, count: int) -> None:
        size = len(self.volume(volume))
        if block + count > size:
            raise OpError(
                "out_of_range", f"blocks {block}-{block + count - 1} outside {volume!r} ({size})"
            )

    def read_blocks(self, volume: str, block: int, count: int) -> list[str]:
        """Each grain from the nearest upstream holder (reads never copy)."""
        self._check_range(volume, block, count)
        self.require_online(volume)
        if volume not in self.topology.primary:  # not a target: its own blocks
            return self.phys[volume][block : block + count]
        out: list[str] = []
        end = block + count
        while block < end:
            grain = block // self.grain_size
            upto = min(end, (grain + 1) * self.grain_size)
            holder = self.topology.image_holder(volume, grain, self.is_split)
            out.extend(self.phys[holder][block:upto])
            block = upto
        return out

    def write_blocks(self, volume: str, block: int, data: list[str]) -> None:
        """A host write, grain by grain."""
        self._check_range(volume, block, len(data))
        self.require_online(volume)
        by_grain: dict[int, dict[int, str]] = {}
        for i, token in enumerate(data):
            b = block + i
            by_grain.setdefault(b // self.grain_size, {})[b] = token
        for grain, blocks in by_grain.items():
            self._host_write_grain(volume, grain, blocks)

    def _host_write_grain(self, volume: str, grain: int, blocks: dict[int, str]) -> None:
        """Preserve every reader, fill a partially written grain, then apply the write."""
        for reader in self._write_readers(volume):
            if not self.is_split(self._map_at(reader), grain):
                self._copy_into(reader, grain, "cow")
        node = self.topology.primary.get(volume)
        if node is not None:
            m = self.maps[self._map_at(node)]
            if not m.split[grain]:
                lo, hi = self.grain_bounds(volume, grain)
                if len(blocks) < hi - lo:
                    self._copy_into(node, grain, "fill")
                else:
                    m.set_split(grain)
                    self.notice(m)
        target = self.phys[volume]
        for b, token in blocks.items():
            target[b] = token
        self._record_difference(volume, grain)

    def _write_readers(self, volume: str) -> list[int]:
        """Targets that read a volume's current data directly (one per position of it)."""
        out = []
        graph = self.topology.graph
        own = self.topology.primary.get(volume)
        nodes = ([own] if own is not None else []) + self.topology.heads_of(volume)
        for node in nodes:  # its target position first, then its heads (the spec's order)
            a = graph.nodes[node]
            if a["role"] == HEAD and a["mode"] == IMAGE:
                continue  # its readers are reached through the volume's primary position
            out.extend(self.topology.readers(node))
        return out

    def _record_difference(self, volume: str, grain: int) -> None:
        """Incremental maps from or onto the volume note the grain as changed."""
        for name in self.incremental_from.get(volume, ()):
            self.maps[name].record_difference(grain)
        name = self.target_of.get(volume)
        if name is not None:
            self.maps[name].record_difference(grain)

    def image_replaced(self, volume: str) -> None:
        """A volume's image changed wholesale (start onto it, loss, forced revival):
        incremental maps copying from it must treat every grain as changed."""
        for m in self.maps_from(volume):
            m.diff = bytearray(b"\x01" * m.grains)

    # -- grain copies ----------------------------------------------------------
    def _map_at(self, node: int) -> str:
        return self.topology.graph.nodes[node]["map"]

    def _copy_into(self, node: int, grain: int, kind: str) -> None:
        """Give a target position its own copy of the grain it currently reads."""
        volume = self.topology.graph.nodes[node]["volume"]
        m = self.maps[self._map_at(node)]
        holder = self.topology.holder(node, grain, self.is_split)
        if holder != volume:
            self._preserve_frozen_readers(volume, grain)
            lo, hi = self.grain_bounds(volume, grain)
            self.phys[volume][lo:hi] = self.phys[holder][lo:hi]
            self.copies.append({"kind": kind, "grain": grain, "from": holder, "to": volume})
        m.set_split(grain)
        self.notice(m)

    def _preserve_frozen_readers(self, volume: str, grain: int) -> None:
        """Before a target's physical grain changes, readers of its frozen heads get a copy."""
        for head in self._frozen_heads(volume):
            for reader in self.topology.readers(head):
                if not self.is_split(self._map_at(reader), grain):
                    self._copy_into(reader, grain, "clean")

    def _frozen_heads(self, volume: str) -> list[int]:
        """The heads presenting a target's own physical grains: frozen, since it is a target."""
        graph = self.topology.graph
        return [h for h in self.topology.heads_of(volume) if graph.nodes[h]["mode"] == PHYSICAL]

    # -- cleaning and dependency -------------------------------------------------
    def clean_targets(self, node: int, grain: int) -> list[int]:
        """Readers that would read something else at the grain if this position left now."""
        graph = self.topology.graph
        held = self.is_split(self._map_at(node), grain)
        above = self.topology.parent(node)
        if (
            above is not None
            and self.topology.holder(above, grain, self.is_split) == (graph.nodes[node]["volume"])
        ):
            return []  # the position before presents this very grain (a self-restore)
        out = []
        for child, edge in graph[node].items():
            if edge["kind"] == CHAIN:
                if held and not self.is_split(self._map_at(child), grain):
                    out.append(child)
            else:  # a head presenting this target's image falls back to its physical grains
                nxt = self.topology.chain_next(child)
                if nxt is not None and not held and not self.is_split(self._map_at(nxt), grain):
                    out.append(nxt)
        return out

    def clean_grain(self, node: int, grain: int) -> int:
        """Copy the grain into every reader that still needs it from this position."""
        targets = self.clean_targets(node, grain)
        for reader in targets:
            self._copy_into(reader, grain, "clean")
        return len(targets)

    def has_clean_work(self, m: Map) -> bool:
        """Some reader still depends on the map's target position."""
        node = self.node_of(m)
        if m.complete:
            nxt = self.topology.chain_next(node)
            return nxt is not None and not self.maps[self._map_at(nxt)].complete
        return any(self.clean_targets(node, g) for g in range(m.grains))

    def direct_dependents(self, m: Map) -> set[str]:
        """Maps whose targets would read something else if this map's position left now."""
        node = self.node_of(m)
        out: set[str] = set()
        for grain in range(m.grains):
            stack = self.clean_targets(node, grain)
            while stack:
                reader = stack.pop()
                out.add(self._map_at(reader))
                stack.extend(
                    r
                    for r in self.topology.readers(reader)
                    if not self.is_split(self._map_at(r), grain)
                )
        return out

    def dependents_of(self, m: Map) -> list[str]:
        """Every map a forced stop of this one would also stop (the closure)."""
        seen: set[str] = set()
        todo = [m]
        while todo:
            current = todo.pop()
            for name in self.direct_dependents(current):
                if name not in seen and name != m.name:
                    seen.add(name)
                    todo.append(self.maps[name])
        return sorted(seen, key=lambda n: self.maps[n].order)
