"""Stops and consistency groups on an engine driver: the vocabulary's bookkeeping for them.

A mixin of `ImageEngine` (`image_engine.py`), which supplies the lookups (`_map`, `_group`), the
start checks (`_startable`, `_begin`, `_settled`) and the engine's `_halt` primitive. Nothing
depends on a stopped target in these engines, so a stop never cleans: the target goes offline at
once, and a forced stop (which the product uses to take dependents with it) is declared
unsupported (`image_vocabulary.DECLARED`).
"""

from __future__ import annotations

from typing import Any

from .image_vocabulary import Mapping, Refused


class StopsAndGroups:
    """`stop`, `stop_group`, `create_group`, `delete_group`, `start_group`."""

    maps: dict[str, Mapping]
    group_names: set[str]
    _map: Any
    _group: Any
    _halt: Any
    _startable: Any
    _begin: Any
    _settled: Any

    # -- stop ----------------------------------------------------------------------------------
    def _op_stop(self, f: dict[str, Any]) -> dict[str, Any]:
        """Stop one map: a copying map's target goes offline at once (nothing depends on it,
        so there is nothing to clean); stopping an idle map does nothing; `split` needs a
        complete copy, which here depends on nothing already."""
        m = self._map(f["map"])
        if m.group is not None:
            raise Refused("group_member", f"map {f['map']!r} is in group {m.group!r}")
        if f.get("force", False) and f.get("split", False):
            raise Refused("bad_request", "force and split are alternatives")
        if m.stopped:
            raise Refused("bad_state", f"map {f['map']!r} is stopped")
        if f.get("split", False) and m.copying:
            raise Refused("bad_state", f"split needs a complete copy; {f['map']!r} is copying")
        if m.copying:
            self._stop_map(m)
        return {"state": m.state}

    def _stop_map(self, m: Mapping) -> None:
        """A copying map stops: the engine halts its copy; the target is offline."""
        self._halt(m.target)
        m.active, m.stopped, m.restoring = False, True, False

    def _op_stop_group(self, f: dict[str, Any]) -> None:
        """Stop every member that is copying."""
        name = self._group(f["group"])
        running = [m for m in self.maps.values() if m.group == name and m.copying]
        if not running:
            raise Refused("bad_state", f"group {name!r} has no running maps")
        for m in running:
            self._stop_map(m)

    # -- consistency groups -------------------------------------------------------------------
    def _op_create_group(self, f: dict[str, Any]) -> None:
        name = f["group"]
        if name in self.group_names:
            raise Refused("exists", f"group {name!r} exists")
        self.group_names.add(name)

    def _op_delete_group(self, f: dict[str, Any]) -> None:
        name = self._group(f["group"])
        members = [m for m in self.maps.values() if m.group == name]
        if members and not f.get("force"):
            raise Refused("group_in_use", f"group {name!r} has members")
        for m in members:
            m.group = None
        self.group_names.discard(name)

    def _op_start_group(self, f: dict[str, Any]) -> None:
        name = self._group(f["group"])
        members = [(n, m) for n, m in self.maps.items() if m.group == name]
        if not members:
            raise Refused("bad_state", f"group {name!r} is empty")
        for n, m in members:
            self._startable(m, n, f.get("restore", False))
        targets = {m.target for _, m in members}
        if any(m.source in targets for _, m in members):
            raise Refused("bad_request", "a member copies another member's target")
        self._begin([m for _, m in members])
        for n, m in members:
            self._settled(n, m)
