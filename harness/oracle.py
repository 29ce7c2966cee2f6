"""Keeps the abstract model in step with a stream of operations and their answers.

The oracle decides what every volume must read as using only the abstract rules
(`model.pointintime` through `model.images`) and what the user could see: which
operations were accepted and, where the implementation exposes them, the states
its maps report. It never looks at cascades, bitmaps or physical grains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from model.availability import MapView, loses_image, offline_volumes
from model.images import ImageModel


@dataclass
class MapRecord:
    """What the oracle knows of one map."""

    source: str
    target: str
    group: str | None
    state: str = "idle_or_copied"
    progress: int = 0


@dataclass
class Oracle:
    """Expected images and availability after every accepted operation."""

    grain_size: int
    model: ImageModel = field(init=False)
    maps: dict[str, MapRecord] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.model = ImageModel(self.grain_size)

    def reset(self, grain_size: int) -> None:
        """An empty system."""
        self.grain_size = grain_size
        self.model = ImageModel(grain_size)
        self.maps.clear()

    # -- following the stream -------------------------------------------------
    def accepted(self, op: dict[str, Any]) -> None:
        """Apply an operation the implementation accepted (before observing states)."""
        kind = op["op"]
        if kind == "reset":
            self.reset(op.get("grain_size", self.grain_size))
        elif kind == "create_volume":
            self.model.create(op["volume"], op["size"])
        elif kind == "delete_volume":
            self.model.delete(op["volume"])
        elif kind == "create_map":
            self.maps[op["map"]] = MapRecord(op["source"], op["target"], op.get("group"))
        elif kind == "delete_map":
            record = self.maps.pop(op["map"])
            if record.state == "stopped":
                self.model.unconstrain(record.target)
        elif kind == "delete_group":
            for record in self.maps.values():
                if record.group == op["group"]:
                    record.group = None
        elif kind == "write":
            self.model.write(op["volume"], op["block"], op["data"])
        elif kind == "start":
            self._start([op["map"]])
        elif kind == "start_group":
            self._start([n for n, r in self.maps.items() if r.group == op["group"]])

    def _start(self, names: list[str]) -> None:
        """An accepted start: every named map's target takes its source's image, at one
        instant. A start the implementation accepted is a start, whatever state the oracle
        last saw (an implementation that reports no states never tells it a copy finished)."""
        self.model.start([(self.maps[n].source, self.maps[n].target) for n in names])
        for name in names:
            self.maps[name].state = "copying"

    def observed(self, states: dict[str, tuple[str, int]]) -> None:
        """Take the states the implementation now reports (map -> (state, progress))."""
        for name in list(self.maps):
            if name not in states:  # deleted automatically (autodelete)
                del self.maps[name]
                continue
            state, progress = states[name]
            record = self.maps[name]
            if loses_image(record.state, state) and self.model.defined(record.target):
                self.model.lose(record.target)
            record.state, record.progress = state, progress

    # -- what must be seen ---------------------------------------------------------
    def offline(self) -> set[str]:
        """Volumes that must refuse host I/O now."""
        views = [MapView(r.source, r.target, r.state, r.progress) for r in self.maps.values()]
        return offline_volumes(views)

    def volumes(self) -> list[str]:
        """Every volume the oracle knows."""
        return sorted(self.model.sizes)
