"""What one reference engine holds, and the lookups every operation shares."""

from __future__ import annotations

import itertools
from typing import Any

import networkx as nx

from .errors import OpError
from .maps import COPYING, IN_CASCADE, PREPARED, PREPARING, STOPPED, STOPPING, SUSPENDED, Map
from .topology import MIXED, Topology


class EngineState:
    """Volumes, maps, groups, the mapping graph and the cascades of one engine."""

    def __init__(self, grain_size: int = 2, policy: str = "per-type") -> None:
        self.grain_size = grain_size
        self.policy = policy
        self.phys: dict[str, list[str]] = {}  # volume -> physical blocks
        self.maps: dict[str, Map] = {}
        self.groups: set[str] = set()
        self.target_of: dict[str, str] = {}  # volume -> the one map that targets it
        self.mapping = nx.DiGraph()  # volumes; an edge source -> target per map (attr: map)
        self.topology = Topology()
        self._order = itertools.count()
        self.watch: set[str] = set()  # maps that may complete or finish stopping now
        self.suspended: set[str] = set()
        self.incremental_from: dict[str, set[str]] = {}  # source volume -> incremental maps
        self.copies: list[dict[str, Any]] = []  # grain copies made by the current operation
        self.events: list[dict[str, Any]] = []  # state changes made by the current operation
        self.is_split = self._is_split

    # -- lookups ---------------------------------------------------------
    def _is_split(self, map_name: str, grain: int) -> bool:
        return bool(self.maps[map_name].split[grain])

    def volume(self, name: str) -> list[str]:
        """A volume's physical blocks; unknown_volume if there is none."""
        try:
            return self.phys[name]
        except KeyError:
            raise OpError("unknown_volume", f"no volume {name!r}") from None

    def map(self, name: str) -> Map:
        """A map by name; unknown_map if there is none."""
        try:
            return self.maps[name]
        except KeyError:
            raise OpError("unknown_map", f"no map {name!r}") from None

    def group(self, name: str) -> list[Map]:
        """A group's members in creation order; unknown_group if there is none."""
        if name not in self.groups:
            raise OpError("unknown_group", f"no consistency group {name!r}")
        return [m for m in self.maps.values() if m.group == name]

    def grains_of(self, volume: str) -> int:
        """Number of grains of a volume (the last one may be short)."""
        return -(-len(self.phys[volume]) // self.grain_size)

    def grain_bounds(self, volume: str, grain: int) -> tuple[int, int]:
        """First and one-past-last block of a grain."""
        lo = grain * self.grain_size
        return lo, min(lo + self.grain_size, len(self.phys[volume]))

    def maps_from(self, volume: str) -> list[Map]:
        """Maps whose source is the volume."""
        return [self.maps[d["map"]] for _, _, d in self.mapping.out_edges(volume, data=True)]

    def node_of(self, m: Map) -> int:
        """The cascade position of an active map's target."""
        return self.topology.primary[m.target]

    def cascade_type_for(self, m: Map) -> str:
        """Which kind of cascade a map joins under this engine's policy."""
        return m.type if self.policy == "per-type" else MIXED

    def linked_maps(self, volume: str) -> list[Map]:
        """Maps connected to a volume through shared volumes (the product's connected tree)."""
        if volume not in self.mapping:
            return []
        component = nx.node_connected_component(self.mapping.to_undirected(as_view=True), volume)
        return [m for m in self.maps.values() if m.source in component]

    # -- availability ------------------------------------------------------
    def offline_reason(self, volume: str) -> str | None:
        """Why host I/O to the volume is refused now, or None when it is accepted."""
        m = self.maps.get(self.target_of.get(volume, ""))
        if m is not None:
            if m.state in (PREPARING, PREPARED):
                return f"target of {m.name}, which is {m.state}: I/O refused"
            if m.state == STOPPED:
                return f"target of {m.name}, stopped before its copy completed"
            if m.state == STOPPING and not m.complete:
                return f"target of {m.name}, stopping before its copy completed"
            if m.state == SUSPENDED:
                return f"target of {m.name}, suspended (bitmap offline)"
        for name in self.suspended:
            if self.maps[name].source == volume:
                return f"source of {name}, suspended (bitmap offline)"
        return None

    def require_online(self, volume: str) -> None:
        """Refuse with `offline` unless host I/O to the volume is accepted."""
        reason = self.offline_reason(volume)
        if reason is not None:
            raise OpError("offline", f"volume {volume!r} is offline: {reason}")

    # -- recording -----------------------------------------------------------
    def set_state(self, m: Map, state: str, cause: str) -> None:
        """Move a map to a state and log the transition for the answer."""
        if m.state != state:
            self.events.append({"map": m.name, "from": m.state, "to": state, "cause": cause})
            m.state = state
        self.suspended.discard(m.name)
        if state == SUSPENDED:
            self.suspended.add(m.name)
        self.notice(m)

    def notice(self, m: Map) -> None:
        """Watch a map that may complete or finish stopping at the next automatic step."""
        if m.state == STOPPING or (m.state == COPYING and m.complete):
            self.watch.add(m.name)

    def active(self, m: Map) -> bool:
        """The map's target holds a cascade position."""
        return m.state in IN_CASCADE

    def copying_or_stopping(self, m: Map) -> bool:
        """Background work may run for the map."""
        return m.state in (COPYING, STOPPING)
