"""The reference engine: one `handle` call per operation of the vocabulary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import OpError
from .queries import Queries
from .requests import OPERATIONS, POLICIES, parse

NAME = "cascadecheck-reference"
VERSION = "0.1.0"
PROTOCOL = "cascadecheck/1"

Fields = dict[str, Any]


class Engine(Queries):
    """Cascaded point-in-time copy, complete: every operation of docs/protocol.md."""

    def __init__(self, grain_size: int = 2, policy: str = "per-type") -> None:
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {POLICIES}")
        super().__init__(grain_size, policy)
        self._handlers: dict[str, Callable[[Fields], dict[str, Any]]] = {
            "hello": self._hello,
            "reset": self._reset,
            "create_volume": lambda f: _done(self.create_volume(f["volume"], f["size"])),
            "delete_volume": lambda f: _done(self.delete_volume(f["volume"])),
            "create_map": lambda f: _done(self.create_map(f)),
            "delete_map": lambda f: _done(self.delete_map(f["map"], f.get("force", False))),
            "prepare": lambda f: _done(self.prepare(f["map"], f.get("restore", False))),
            "start": self._start,
            "stop": self._stop_op,
            "write": lambda f: _done(self.write_blocks(f["volume"], f["block"], f["data"])),
            "read": lambda f: {"data": self.read_blocks(f["volume"], f["block"], f["count"])},
            "copy": self._copy,
            "settle": lambda f: _done(self.settle_all()),
            "create_group": lambda f: _done(self.create_group(f["group"])),
            "delete_group": lambda f: _done(self.delete_group(f["group"], f.get("force", False))),
            "start_group": lambda f: _done(self.start_group(f["group"], f.get("restore", False))),
            "stop_group": lambda f: _done(self.stop_group(f["group"], f.get("force", False))),
            "status": lambda f: self.status(f["map"]),
            "dependents": lambda f: {"maps": self.dependents(f["map"])},
            "cascades": lambda f: {"cascades": self.cascade_list()},
            "internals": lambda f: self.internals(f.get("grains")),
            "inject": lambda f: _done(self.inject(f["map"], f["event"])),
        }

    def handle(self, request: Any) -> dict[str, Any]:
        """Run one operation; a refusal changes nothing and answers its error code."""
        self.copies, self.events = [], []
        try:
            op, fields = parse(request)
            body = self._handlers[op](fields)
            if op not in ("read", "status", "dependents", "cascades", "internals", "hello"):
                self.auto_transitions()
                body.update(copies=self.copies, events=self.events)
        except OpError as refusal:
            return refusal.answer()
        return {"ok": True, **body}

    # -- handlers with answers of their own -------------------------------------
    def _hello(self, _: Fields) -> dict[str, Any]:
        return {
            "name": NAME,
            "version": VERSION,
            "protocol": PROTOCOL,
            "ops": sorted(OPERATIONS),
            "exposes": ["images", "states", "internals"],
            "policies": list(POLICIES),
            "policy": self.policy,
            "grain_size": self.grain_size,
        }

    def _reset(self, f: Fields) -> dict[str, Any]:
        Queries.__init__(self, f.get("grain_size", self.grain_size), f.get("policy", self.policy))
        return {"grain_size": self.grain_size, "policy": self.policy}

    def _start(self, f: Fields) -> dict[str, Any]:
        self.start(f["map"], f.get("restore", False))
        restoring = self.maps[f["map"]].restoring
        self.auto_transitions()
        m = self.maps.get(f["map"])
        return {"state": m.state if m else "deleted", "restoring": restoring}

    def _stop_op(self, f: Fields) -> dict[str, Any]:
        self.stop(f["map"], f.get("force", False), f.get("split", False))
        self.auto_transitions()
        m = self.maps.get(f["map"])
        return {"state": m.state if m else "deleted"}

    def _copy(self, f: Fields) -> dict[str, Any]:
        m = self.map(f["map"])
        done = self.advance(m, f.get("grains"))
        return {"copied": done, "state": m.state, "progress": m.progress}


def _done(_: object) -> dict[str, Any]:
    return {}
