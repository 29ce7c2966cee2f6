"""The structure of a system of cascades: which volume sits where, as plain immutable values.

A *node* is a position `(cascade index, place)`: place 0 is the head, places 1.. are the targets
in cascade order (nearest the head first). A volume is the target of at most one map, so it has
at most one target position; it may head several cascades. A head is in *physical* mode (it
presents the head volume's own grains) or *image* mode (it presents the image of a volume that
is itself a target elsewhere: a cascade of cascades). A physical head of a volume that has
become a target again is *frozen*: it keeps presenting the old grains its readers still need.

Shapes carry no data and no bitmaps: proofs enumerate them, and the data on them is symbolic.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

PHYSICAL = "physical"
IMAGE = "image"
MIXED = "mixed"

Node = tuple[int, int]


@dataclass(frozen=True)
class Chain:
    """One cascade: its kind (clone, snapshot or mixed), its head and its targets in order."""

    kind: str
    head: str
    head_mode: str
    targets: tuple[str, ...]

    def volume_at(self, place: int) -> str:
        """The volume at a place of this cascade."""
        return self.head if place == 0 else self.targets[place - 1]


@dataclass(frozen=True)
class MapInfo:
    """What the rules need to know of a map: where it copies from, its type and rate."""

    source: str
    type: str
    incremental: bool = False
    copy_rate: int = 50
    order: int = 0  # creation order: breaks copy-rate ties in a group start


@dataclass(frozen=True)
class Shape:
    """Volumes, maps (keyed by target) and the cascades of active maps."""

    volumes: tuple[str, ...]
    chains: tuple[Chain, ...] = ()
    maps: tuple[tuple[str, MapInfo], ...] = ()
    stopping: frozenset[str] = frozenset()  # active targets whose map is stopping

    # -- lookups -------------------------------------------------------------------
    def map_of(self, target: str) -> MapInfo:
        """The map whose target is the volume."""
        return dict(self.maps)[target]

    def active(self) -> list[str]:
        """Targets that hold a cascade position, in cascade order."""
        return [t for c in self.chains for t in c.targets]

    def position(self, target: str) -> Node | None:
        """The target position of a volume, if it has one."""
        for ci, chain in enumerate(self.chains):
            if target in chain.targets:
                return ci, chain.targets.index(target) + 1
        return None

    def volume_at(self, node: Node) -> str:
        """The volume at a node."""
        return self.chains[node[0]].volume_at(node[1])

    def heads_of(self, volume: str) -> list[Node]:
        """Head nodes of a volume."""
        return [(ci, 0) for ci, c in enumerate(self.chains) if c.head == volume]

    def nodes_of(self, volume: str) -> list[Node]:
        """Every node of a volume: its target position and its heads."""
        own = self.position(volume)
        return ([own] if own else []) + self.heads_of(volume)

    def is_frozen(self, node: Node) -> bool:
        """A physical head of a volume that is now a target: it presents old grains."""
        chain = self.chains[node[0]]
        return (
            node[1] == 0 and chain.head_mode == PHYSICAL and self.position(chain.head) is not None
        )

    def readers(self, node: Node) -> list[Node]:
        """Target nodes that read directly through this node."""
        ci, place = node
        out: list[Node] = []
        if place < len(self.chains[ci].targets):
            out.append((ci, place + 1))
        if place > 0:  # a target position also feeds the cascades its volume heads as an image
            volume = self.volume_at(node)
            out += [
                (cj, 1)
                for cj, c in enumerate(self.chains)
                if c.head == volume and c.head_mode == IMAGE and c.targets
            ]
        return out

    def image_source(self, head: Node) -> Node:
        """The target position an image-mode head presents: its head volume's own position."""
        node = self.position(self.chains[head[0]].head)
        assert node is not None and self.chains[head[0]].head_mode == IMAGE, head
        return node

    def positions_count(self, volume: str) -> int:
        """How many positions a volume has (the bound on a write's downstream copies)."""
        return len(self.nodes_of(volume))

    def write_reach(self, volume: str) -> set[Node]:
        """The target positions a host write to the volume may copy into (the cost bound):
        every direct reader of its positions except image heads (copy-on-write), its own
        position (fill), and, after a restore, every reader of a frozen head of a volume in
        the set (the preservation copies); at most one copy lands in each."""
        own = self.position(volume)
        reach: set[Node] = {own} if own else set()
        for node in self.nodes_of(volume):
            if not (node[1] == 0 and self.chains[node[0]].head_mode == IMAGE):
                reach.update(self.readers(node))
        todo = list(reach)
        while todo:
            target = self.volume_at(todo.pop())
            for head in self.heads_of(target):
                if self.is_frozen(head):
                    for reader in self.readers(head):
                        if reader not in reach:
                            reach.add(reader)
                            todo.append(reader)
        return reach

    # -- changes -------------------------------------------------------------------
    def with_map(self, target: str, info: MapInfo) -> Shape:
        """The shape with a map (re)defined."""
        maps = dict(self.maps)
        maps[target] = info
        return replace(self, maps=tuple(sorted(maps.items())))

    def without_map(self, target: str) -> Shape:
        """The shape with a map deleted."""
        return replace(self, maps=tuple((t, m) for t, m in self.maps if t != target))

    def insert_after(self, node: Node | None, source: str, target: str, kind: str) -> Shape:
        """Put the target directly after a node, or head a new cascade of `kind` with `source`."""
        chains = list(self.chains)
        if node is None:
            mode = IMAGE if self.position(source) else PHYSICAL
            chains.append(Chain(kind, source, mode, (target,)))
        else:
            ci, place = node
            c = chains[ci]
            chains[ci] = replace(c, targets=(*c.targets[:place], target, *c.targets[place:]))
        return replace(self, chains=tuple(chains))

    def remove(self, target: str) -> Shape:
        """Unlink a target; heads that presented its image now present its grains."""
        chains = []
        for c in self.chains:
            if c.head == target and c.head_mode == IMAGE:
                c = replace(c, head_mode=PHYSICAL)
            if target in c.targets:
                c = replace(c, targets=tuple(t for t in c.targets if t != target))
            if c.targets:
                chains.append(c)
        return replace(self, chains=tuple(chains))

    def cut(self, target: str) -> Shape:
        """Split a cascade before the target, which heads (physically) what hung below it."""
        node = self.position(target)
        assert node is not None
        ci, place = node
        c = self.chains[ci]
        above = replace(c, targets=c.targets[: place - 1])
        below = Chain(c.kind, target, PHYSICAL, c.targets[place:])
        chains = [replace(x, head_mode=PHYSICAL) if x.head == target else x for x in self.chains]
        chains[ci] = above
        chains.append(below)
        return replace(self, chains=tuple(x for x in chains if x.targets))
