"""Seeded mutants of the reference engine: each breaks exactly one rule.

They exist to show the conformance harness can fail (`tests/test_mutants.py`,
`benchmarks/mutants.py`): point it at `python:reference.mutants:NAME` (or serve one through
`cascadecheck serve` and an `exec:` driver) and it must find a counterexample.
"""

from __future__ import annotations

from typing import Any

from .engine import Engine
from .errors import OpError
from .maps import Map
from .topology import Topology


class _AppendingTopology(Topology):
    def attach_point(self, source: str, cascade_type: str) -> int | None:
        node = super().attach_point(source, cascade_type)
        if node is None:
            return None
        while (nxt := self.chain_next(node)) is not None:
            node = nxt
        return node


class WrongInsertionPoint(Engine):
    """A new target joins at the end of its cascade instead of right after its source."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.topology = _AppendingTopology()

    def _reset(self, f: dict[str, Any]) -> dict[str, Any]:
        out = super()._reset(f)
        self.topology = _AppendingTopology()
        return out


class CopyToWrongNeighbour(Engine):
    """Copy-on-write of a head write goes to the last target, not the one next to the head."""

    def _write_readers(self, volume: str) -> list[int]:
        out = []
        for node in super()._write_readers(volume):
            last = node
            while (nxt := self.topology.chain_next(last)) is not None:
                last = nxt
            out.append(last)
        return out


class NoDownstreamOnTargetWrite(Engine):
    """A write to a target does not preserve the target downstream of it."""

    def _write_readers(self, volume: str) -> list[int]:
        if volume in self.topology.primary:
            return []
        return super()._write_readers(volume)


class NoPartialFill(Engine):
    """A partial-grain write to a target marks the grain held without filling the rest."""

    def _copy_into(self, node: int, grain: int, kind: str) -> None:
        if kind == "fill":
            self.maps[self._map_at(node)].set_split(grain)
            return
        super()._copy_into(node, grain, kind)


class ReadSkipsSplitUpstream(Engine):
    """A read of a target lacking a grain goes straight to the cascade head."""

    def read_blocks(self, volume: str, block: int, count: int) -> list[str]:
        node = self.topology.primary.get(volume)
        if node is None:
            return super().read_blocks(volume, block, count)
        self._check_range(volume, block, count)
        self.require_online(volume)
        head = node
        while (up := self.topology.chain_prev(head)) is not None:
            head = up
        out = []
        for b in range(block, block + count):
            m = self.maps[self._map_at(node)]
            own = m.split[b // self.grain_size]
            source = volume if own else self.topology.graph.nodes[head]["volume"]
            out.append(self.phys[source][b])
        return out


class IncompleteCleaning(Engine):
    """Cleaning copies only the lowest grain a reader needs, then the map leaves."""

    def clean_targets(self, node: int, grain: int) -> list[int]:
        if grain > 0:
            return []
        return super().clean_targets(node, grain)


class CompletionWithDependents(Engine):
    """A complete map leaves its cascade even while a downstream target reads through it."""

    def has_clean_work(self, m: Map) -> bool:
        if m.complete:
            return False
        return super().has_clean_work(m)


class TypesMixed(Engine):
    """Under the per-type policy, clones and snapshots still share one cascade."""

    def cascade_type_for(self, m: Map) -> str:
        return "mixed"


class IncrementalTooLittle(Engine):
    """An incremental restart keeps every grain it held, changed or not."""

    def _start_maps(self, members: list[Map]) -> None:
        kept = {m.name: bytearray(m.split) for m in members if m.incremental}
        super()._start_maps(members)
        for m in members:
            if m.name in kept:
                m.split = kept[m.name]
                m.split_count = sum(m.split)


class RestoreBreaksOthers(Engine):
    """A restore does not preserve the targets that read the restored source's old data."""

    def _preserve_frozen_readers(self, volume: str, grain: int) -> None:
        return None


class RefusalChangesState(Engine):
    """A write refused for an out-of-range block has already written the blocks in range."""

    def write_blocks(self, volume: str, block: int, data: list[str]) -> None:
        size = len(self.volume(volume))
        if block + len(data) > size and block < size:
            self.require_online(volume)
            super().write_blocks(volume, block, data[: size - block])
            raise OpError("out_of_range", f"blocks past the end of {volume!r}")
        super().write_blocks(volume, block, data)


class DependentsUnderReported(Engine):
    """`dependents` lists only the maps reading directly through the map, not the closure a
    forced stop really stops."""

    def dependents(self, name: str) -> list[str]:
        m = self.map(name)
        return sorted(self.direct_dependents(m)) if self.active(m) else []


def _registry() -> dict[str, type[Engine]]:
    from .mutants_counts import COUNT_MUTANTS
    from .mutants_lifecycle import LIFECYCLE_MUTANTS

    data_path = (
        WrongInsertionPoint,
        CopyToWrongNeighbour,
        NoDownstreamOnTargetWrite,
        NoPartialFill,
        ReadSkipsSplitUpstream,
        IncompleteCleaning,
        CompletionWithDependents,
        TypesMixed,
        IncrementalTooLittle,
        RestoreBreaksOthers,
        RefusalChangesState,
        DependentsUnderReported,
    )
    return {cls.__name__: cls for cls in (*data_path, *LIFECYCLE_MUTANTS, *COUNT_MUTANTS)}


# every seeded mutant inside the engine, by name (`python:reference.mutants:NAME`)
MUTANTS: dict[str, type[Engine]] = _registry()
