"""Cascades as a networkx forest of positions (the patents' fdisks).

Every appearance of a volume in a cascade is a node. A node has at most one
upstream edge, so the graph is a forest and a read walks up it:

* a ``chain`` edge joins neighbours of one cascade (upstream -> downstream);
* a ``link`` edge joins a volume's primary position (where it is a target) to a
  cascade that volume heads in *image* mode (a cascade of cascades: the head
  presents the volume's image, not its physical grains).

A head in *physical* mode presents the head volume's physical grains. When a
volume that heads cascades becomes a target itself (a restore), those heads
stay physical: they are the frozen old contents the existing targets still read.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import networkx as nx

CHAIN = "chain"
LINK = "link"
HEAD = "head"
TARGET = "target"
PHYSICAL = "physical"
IMAGE = "image"
MIXED = "mixed"

SplitTest = Callable[[str, int], bool]  # (map name, grain) -> target holds the grain


class Topology:
    """The cascades of one engine: insertion, removal, splitting and read redirection."""

    def __init__(self) -> None:
        self.graph = nx.DiGraph()
        self._ids = itertools.count()
        self.cascade_type: dict[int, str] = {}
        self.cascade_head: dict[int, int] = {}
        self.primary: dict[str, int] = {}  # volume -> its target position
        self._by_volume: dict[str, set[int]] = {}

    # -- looking around -------------------------------------------------
    def parent(self, node: int) -> int | None:
        """The node a read continues to when this node does not hold the grain."""
        for p in self.graph.predecessors(node):
            return p
        return None

    def chain_next(self, node: int) -> int | None:
        """The immediate downstream neighbour in the same cascade."""
        for c, kind in self.graph[node].items():
            if kind["kind"] == CHAIN:
                return c
        return None

    def chain_prev(self, node: int) -> int | None:
        """The immediate upstream neighbour in the same cascade."""
        p = self.parent(node)
        if p is not None and self.graph.edges[p, node]["kind"] == CHAIN:
            return p
        return None

    def cascade_nodes(self, cascade: int) -> list[int]:
        """Nodes of one cascade, head first."""
        out = []
        node: int | None = self.cascade_head[cascade]
        while node is not None:
            out.append(node)
            node = self.chain_next(node)
        return out

    def cascades(self) -> list[int]:
        """Cascade ids in creation order."""
        return sorted(self.cascade_head)

    def nodes_of(self, volume: str) -> list[int]:
        """Every position of a volume."""
        return sorted(self._by_volume.get(volume, ()))

    def heads_of(self, volume: str) -> list[int]:
        """The head positions of a volume."""
        return [n for n in self.nodes_of(volume) if self.graph.nodes[n]["role"] == HEAD]

    def is_current_head(self, node: int) -> bool:
        """A head presents its volume's current image (it is not a frozen restore head)."""
        a = self.graph.nodes[node]
        return a["mode"] == IMAGE or a["volume"] not in self.primary

    def readers(self, node: int) -> Iterator[int]:
        """Target positions that read directly through this node: the next position of its
        cascade first, then the first targets of the cascades it feeds as an image head, oldest
        cascade first (the order the specification copies in, `model/shape.py`)."""
        links = []
        for child, edge in self.graph[node].items():
            if edge["kind"] == CHAIN:
                yield child
            else:
                links.append(child)
        for head in sorted(links):
            nxt = self.chain_next(head)
            if nxt is not None:
                yield nxt

    # -- read redirection -------------------------------------------------
    def holder(self, node: int, grain: int, is_split: SplitTest) -> str:
        """The volume whose physical grain this node presents (nearest upstream holder)."""
        nodes = self.graph.nodes
        current: int | None = node
        while current is not None:
            a = nodes[current]
            if a["role"] == TARGET:
                if is_split(a["map"], grain):
                    return a["volume"]
            elif a["mode"] == PHYSICAL:
                return a["volume"]
            current = self.parent(current)
        raise AssertionError("a read walked off the top of a cascade")

    def image_holder(self, volume: str, grain: int, is_split: SplitTest) -> str:
        """The volume whose physical grain holds this volume's image."""
        node = self.primary.get(volume)
        return volume if node is None else self.holder(node, grain, is_split)

    # -- where a new target goes -------------------------------------------
    def attach_point(self, source: str, cascade_type: str) -> int | None:
        """The node a new target of `source` goes directly after, or None for a new cascade."""
        node = self.primary.get(source)
        if (
            node is not None
            and self.cascade_type[self.graph.nodes[node]["cascade"]] == cascade_type
        ):
            return node
        for head in self.heads_of(source):
            cid = self.graph.nodes[head]["cascade"]
            if self.cascade_type[cid] == cascade_type and self.is_current_head(head):
                return head
        return None

    def insert_target(self, source: str, target: str, map_name: str, cascade_type: str) -> int:
        """Insert `target` directly after the current position of `source`."""
        after = self.attach_point(source, cascade_type)
        if after is None:
            after = self._new_cascade(source, cascade_type)
        cid = self.graph.nodes[after]["cascade"]
        node = self._add_node(target, cid, TARGET, map=map_name)
        nxt = self.chain_next(after)
        if nxt is not None:
            self.graph.remove_edge(after, nxt)
            self.graph.add_edge(node, nxt, kind=CHAIN)
        self.graph.add_edge(after, node, kind=CHAIN)
        self.primary[target] = node
        return node

    def _new_cascade(self, head_volume: str, cascade_type: str) -> int:
        cid = next(self._ids)
        self.cascade_type[cid] = cascade_type
        mode = IMAGE if head_volume in self.primary else PHYSICAL
        head = self._add_node(head_volume, cid, HEAD, mode=mode)
        self.cascade_head[cid] = head
        if mode == IMAGE:
            self.graph.add_edge(self.primary[head_volume], head, kind=LINK)
        return head

    def _add_node(self, volume: str, cid: int, role: str, **attrs: object) -> int:
        node = next(self._ids)
        self.graph.add_node(node, volume=volume, cascade=cid, role=role, **attrs)
        self._by_volume.setdefault(volume, set()).add(node)
        return node

    def _remove_node(self, node: int) -> None:
        volume = self.graph.nodes[node]["volume"]
        self.graph.remove_node(node)
        self._by_volume[volume].discard(node)
        if not self._by_volume[volume]:
            del self._by_volume[volume]

    # -- removal and splitting -------------------------------------------
    def remove_target(self, node: int) -> None:
        """Unlink a target position; its volume stops being a target."""
        a = self.graph.nodes[node]
        prev, nxt = self.chain_prev(node), self.chain_next(node)
        self._release_live_heads(node)
        self._remove_node(node)
        del self.primary[a["volume"]]
        if nxt is not None and prev is not None:
            self.graph.add_edge(prev, nxt, kind=CHAIN)
        self._drop_if_bare(a["cascade"])

    def split_at(self, node: int) -> None:
        """Cut the cascade before `node`, which becomes the physical head of its own cascade."""
        a = self.graph.nodes[node]
        prev = self.chain_prev(node)
        self._release_live_heads(node)
        if prev is not None:
            self.graph.remove_edge(prev, node)
        del self.primary[a["volume"]]
        cid = next(self._ids)
        self.cascade_type[cid] = self.cascade_type[a["cascade"]]
        self.cascade_head[cid] = node
        old = a["cascade"]
        for n in self.cascade_nodes(cid):
            self.graph.nodes[n]["cascade"] = cid
        a.update(role=HEAD, mode=PHYSICAL)
        a.pop("map", None)
        self._drop_if_bare(old)
        self._drop_if_bare(cid)

    def _release_live_heads(self, node: int) -> None:
        """Heads that presented this target's image now present its physical grains."""
        for child, edge in list(self.graph[node].items()):
            if edge["kind"] == LINK:
                self.graph.remove_edge(node, child)
                self.graph.nodes[child]["mode"] = PHYSICAL

    def _drop_if_bare(self, cid: int) -> None:
        head = self.cascade_head[cid]
        if self.chain_next(head) is None:
            self._remove_node(head)
            del self.cascade_head[cid]
            del self.cascade_type[cid]
