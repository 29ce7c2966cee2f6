"""The abstract model kept in step with the operations the specification accepts.

The oracle decides what every volume must read as using only the abstract rules
(`model.pointintime` through `model.images`) and which volumes refuse I/O using the product's
state table (`model.availability`). It learns which operations were accepted and how map
states changed from the specification engine that runs in lockstep (its answers and state
events), never from the implementation under test, and it never looks at cascades, bitmaps or
physical grains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from model.availability import MapView, loses_image, offline_volumes
from model.images import ImageModel, Token


@dataclass
class MapRecord:
    """What the oracle knows of one map."""

    name: str
    source: str
    target: str
    group: str | None = None
    state: str = "idle_or_copied"
    progress: int = 0


@dataclass
class Oracle:
    """Expected images and availability after every operation."""

    grain_size: int
    model: ImageModel = field(init=False)
    maps: dict[str, MapRecord] = field(default_factory=dict)
    # volumes whose image may hold values first read from the implementation: a forced
    # delete revived them with whatever they held, and a start copies that on to its targets
    adopted: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.model = ImageModel(self.grain_size)

    def reset(self, grain_size: int) -> None:
        """An empty system."""
        self.grain_size = grain_size
        self.model = ImageModel(grain_size)
        self.maps.clear()
        self.adopted.clear()

    # -- following the specification ---------------------------------------------------
    def accepted(self, op: dict[str, Any], events: list[dict[str, Any]]) -> None:
        """An operation the specification accepted, with the state changes it made."""
        kind = op["op"]
        if kind == "reset":
            self.reset(op.get("grain_size", self.grain_size))
        elif kind == "create_volume":
            self.model.create(op["volume"], op["size"])
        elif kind == "delete_volume":
            self.model.delete(op["volume"])
            self.adopted.discard(op["volume"])
        elif kind == "create_map":
            self.maps[op["map"]] = MapRecord(op["map"], op["source"], op["target"], op.get("group"))
        elif kind == "delete_group":
            for record in self.maps.values():
                if record.group == op["group"]:
                    record.group = None
        elif kind == "write":
            self.model.write(op["volume"], op["block"], op["data"])
        started: list[str] = []  # rule 1: consecutive starts happen at one instant (a group)
        for e in events:
            if e["cause"] == "start" and e["map"] in self.maps:
                started.append(e["map"])
            else:
                self._start(started)
                started = []
            self._transition(e)
        self._start(started)

    def _start(self, names: list[str]) -> None:
        if names:
            pairs = [(self.maps[n].source, self.maps[n].target) for n in names]
            self.model.start(pairs)
            for source, target in pairs:  # a target's image is its source's, wholly
                if source in self.adopted:
                    self.adopted.add(target)
                else:
                    self.adopted.discard(target)

    def _transition(self, event: dict[str, Any]) -> None:
        record = self.maps.get(event["map"])
        if record is None:
            return
        if event["to"] == "deleted":
            del self.maps[event["map"]]
            if event["from"] == "stopped":  # a forced delete revives whatever it holds
                self.model.unconstrain(record.target)
                self.adopted.add(record.target)
            return
        if loses_image(event["from"], event["to"]) and self.model.defined(record.target):
            self.model.lose(record.target)  # rule 3
        record.state = event["to"]

    def progress(self, name: str, progress: int) -> None:
        """A map's progress (availability of a stopping target depends on it)."""
        if name in self.maps:
            self.maps[name].progress = progress

    # -- what must be seen -------------------------------------------------------------------
    def offline(self) -> set[str]:
        """Volumes that must refuse host I/O now."""
        views = [MapView(r.source, r.target, r.state, r.progress) for r in self.maps.values()]
        return offline_volumes(views)

    def volumes(self) -> list[str]:
        """Every volume that exists."""
        return sorted(self.model.sizes)

    def blocks(self, volume: str, block: int, count: int) -> list[Token]:
        """The expected tokens of a block range (None: any value, not yet pinned)."""
        return self.model.expected(volume, block, count)
