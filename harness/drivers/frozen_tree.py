"""The redirect-on-write layout of backing-chain engines, kept as a networkx tree of nodes.

QEMU's qcow2 chains and nbdkit's cow overlays have no cascades: a volume is a writable *top*
node, and every other node is frozen, shared and read-only. Starting S->T freezes S's top and
gives S and T each a new empty node on it (`shared/engines.md` §8), so no volume ever reads
another volume's writable data. This module decides the shape — which node to freeze, which
nodes a deletion frees, which node to fold into its only child — and the engine drivers carry
it out with their own tools. Edges point from a node to the nodes that read through it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx


@dataclass(frozen=True)
class Fold:
    """Fold `node` into its only `child`: the child takes every grain it lacks from `node`
    and reads through `base` (None: through nothing) afterwards; then `node` is deleted."""

    node: str
    child: str
    base: str | None


@dataclass(frozen=True)
class Delete:
    """Delete `node`: nothing reads through it and no volume has it as its top."""

    node: str


@dataclass
class FrozenTree:
    """Nodes, what each reads through, and each volume's top node."""

    graph: nx.DiGraph = field(default_factory=nx.DiGraph)
    top: dict[str, str] = field(default_factory=dict)
    kept: set[str] = field(default_factory=set)  # nodes an engine still needs, tops or not

    def backing(self, node: str) -> str | None:
        """The node `node` reads through, if any."""
        parents = list(self.graph.predecessors(node))
        return parents[0] if parents else None

    def chain(self, volume: str) -> list[str]:
        """The volume's top node and every node it reads through, top first."""
        return self.below(self.top[volume])

    def below(self, node: str) -> list[str]:
        """The node and every node it reads through, nearest first."""
        out: list[str] = []
        current: str | None = node
        while current is not None:
            out.append(current)
            current = self.backing(current)
        return out

    def add(self, node: str, backing: str | None = None) -> None:
        """A new node, reading through `backing`."""
        self.graph.add_node(node)
        if backing is not None:
            self.graph.add_edge(backing, node)

    def frozen_sources(self, pairs: Iterable[tuple[str, str]]) -> list[str]:
        """The distinct sources of a start, in order: each one's top node is frozen once."""
        return list(dict.fromkeys(source for source, _ in pairs))

    def retop(self, volume: str, node: str) -> str | None:
        """`node` becomes the volume's top; the old top, if it had one."""
        old = self.top.get(volume)
        self.top[volume] = node
        return old

    def forget(self, volume: str) -> str:
        """The volume is deleted; its old top node."""
        return self.top.pop(volume)

    def collect(self, released: Iterable[str], can_fold: bool) -> list[Fold | Delete]:
        """The garbage after tops were released, in the order to remove it: a node no volume
        tops and nothing reads through is deleted (then its backing is looked at); a frozen
        node with one reader is folded into it, where the engine can fold. Tops and kept nodes
        stay."""
        steps: list[Fold | Delete] = []
        tops = set(self.top.values()) | self.kept
        todo = list(released)
        while todo:
            node = todo.pop()
            if node in tops or node not in self.graph:
                continue
            readers = list(self.graph.successors(node))
            base = self.backing(node)
            if not readers:
                steps.append(Delete(node))
                self.graph.remove_node(node)
                if base is not None:
                    todo.append(base)
            elif len(readers) == 1 and can_fold:
                child = readers[0]
                steps.append(Fold(node, child, base))
                self.graph.remove_node(node)
                if base is not None:
                    self.graph.add_edge(base, child)
        return steps

    def nodes(self) -> list[str]:
        """Every node, leaves first (the order to shut them down)."""
        return list(reversed(list(nx.topological_sort(self.graph))))
