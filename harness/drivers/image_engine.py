"""The vocabulary on a real engine that knows volumes, starts and I/O, and no maps.

A real point-in-time-copy engine (QEMU, nbdkit, a reflink file system) has no map names, no
copy types, no map states and none of the product's refusals. `ImageEngine` keeps that
bookkeeping once for every engine driver — volumes, maps and their states, groups, the
vocabulary's validation and refusals, tokens as bytes — and leaves an engine a handful of
primitives (`_make`, `_drop`, `_start`, `_write`, `_read`, `_copy`, `_finish`, `_progress`,
`_halt`, `_revive`, `_wipe`, `_shutdown`; an engine that records changes — `records_changes`,
qemu-live's dirty bitmaps — supports incremental maps with `_recorded`, `_unrecorded`,
`_difference`). A refused operation reaches no primitive, so it changes nothing (an engine may
refuse in `_start` or `_drop`, before it changes anything); a primitive that fails raises, and the
harness reports the engine as crashed.

What these engines cannot do is declared in `hello` (`DECLARED`, plus each engine's own
`limits`), never silently ignored: a request naming a declared-unsupported flag is refused
`unsupported`, an unknown field `bad_request`. They copy in their own time (`pace: own`): a
clone's map is `copying` from its start until the engine's background copy is complete, then
`idle_or_copied`; a snapshot copies until deleted or stopped. A stop halts the engine's copy
where it is and the target is offline (`stopped`) until its map starts again or is deleted with
force; with nothing depending on it, it needs no cleaning, so it is `stopped` at once (the
specification's `stopping` catches up). Redirect-on-write engines have no cascade
dependencies, so map states that follow them are declared unsupported (`dependency_states`).

A vocabulary block is `block` bytes: a token is its UTF-8 bytes padded with zeros ("" is all
zeros; a token has at most 256 characters, so at most 1024 bytes), so what a volume reads is
what was written, byte for byte.
"""

from __future__ import annotations

from typing import Any, ClassVar

import networkx as nx

from model.vocabulary import MAX_TOKEN, REQUESTS, map_type

from ..protocol import request_problem
from .image_stops_groups import StopsAndGroups
from .image_vocabulary import (
    DECLARED,
    MAX_BLOCKS,
    OPS,
    Mapping,
    Refused,
    decode,
    encode,
)

__all__ = ["DECLARED", "MAX_BLOCKS", "OPS", "ImageEngine", "Mapping", "Refused", "decode", "encode"]


class ImageEngine(StopsAndGroups):
    """The vocabulary's bookkeeping; subclasses supply the engine's primitives."""

    name: ClassVar[str] = "image-engine"
    version: ClassVar[str] = "?"
    block: ClassVar[int] = 4 * MAX_TOKEN  # bytes per vocabulary block: the longest token fits
    limits: ClassVar[dict[str, str]] = {}  # an engine's own declared limits, with reasons
    max_blocks: ClassVar[int] = MAX_BLOCKS  # the largest volume, declared in hello
    records_changes: ClassVar[bool] = False  # the engine records changes: incremental maps

    def __init__(self) -> None:
        self.grain_size = 2
        self.size: dict[str, int] = {}
        self.maps: dict[str, Mapping] = {}
        self.group_names: set[str] = set()

    # -- primitives an engine supplies ------------------------------------------------------
    def _make(self, volume: str, nbytes: int) -> None:
        """A new volume of `nbytes` zero bytes."""
        raise NotImplementedError

    def _drop(self, volume: str) -> None:
        """Delete a volume (no map uses it) and release what only it used."""
        raise NotImplementedError

    def _start(self, pairs: list[tuple[str, str]]) -> set[str]:
        """Each target takes its source's image, all at one instant; the targets whose copy is
        complete at once (an incremental map with nothing changed)."""
        raise NotImplementedError

    def _write(self, volume: str, offset: int, raw: bytes) -> None:
        """Write bytes at a byte offset."""
        raise NotImplementedError

    def _read(self, volume: str, offset: int, length: int) -> bytes:
        """Read bytes at a byte offset."""
        raise NotImplementedError

    def _copy(self, target: str, grains: int) -> bool:
        """Advance a clone's background copy; True once the target depends on nothing."""
        self._finish(target)
        return True

    def _finish(self, target: str) -> None:
        """Run a clone's background copy to completion (nothing to do by default)."""

    def _progress(self, target: str) -> int:
        """How far a copying map's background copy is, in percent, where the engine says."""
        return 0

    def _halt(self, target: str) -> None:
        """The target's map stopped before its copy completed: the engine stops copying into
        it and may take it offline; what it holds stays (nothing to do where the copy runs
        only inside `copy` and `settle`)."""

    def _revive(self, target: str) -> None:
        """A stopped map was deleted with force: the target is online again, with whatever
        it holds."""

    def _recorded(self, name: str, m: Mapping) -> None:
        """An incremental map was created: the engine keeps a record of change for it."""

    def _unrecorded(self, name: str) -> None:
        """An incremental map was deleted: so is its record."""

    def _difference(self, name: str, m: Mapping) -> int:
        """Percentage of an incremental map's grains changed since its last start, from the
        engine's record."""
        raise NotImplementedError

    def _wipe(self) -> None:
        """Delete every volume (an empty system)."""
        for volume in list(self.size):
            self._drop(volume)

    def _shutdown(self) -> None:
        """Release every process and file the engine holds."""

    # -- the vocabulary ----------------------------------------------------------------------
    def declared(self) -> dict[str, str]:
        """Everything this engine does not support, with its reason."""
        declared = {**DECLARED, **self.limits}
        if self.records_changes:
            del declared["create_map.incremental"]
        return declared

    def handle(self, request: Any) -> dict[str, Any]:
        """One operation; a refusal changes nothing."""
        try:  # only validation refuses; an engine that fails raises, and is reported crashed
            op = self._validate(request)
            body = getattr(self, f"_op_{op}")(request)
        except Refused as r:
            return {"ok": False, "error": r.code, "message": str(r)}
        return {"ok": True, **(body or {})}

    def _validate(self, request: Any) -> str:
        """The request is one of the vocabulary, supported here, with no declared-unsupported
        flag set; its op."""
        problem = request_problem(request)
        if problem:
            raise Refused("bad_request", problem)
        op = request["op"]
        declared = self.declared()
        if op not in OPS or op in declared:
            raise Refused("unsupported", f"{self.name} does not support {op}")
        for key, value in request.items():
            field = REQUESTS[op].get(key)
            if field is None or field.required:
                continue
            unset = value is False  # an optional flag set to false asks for nothing
            if f"{op}.{key}" in declared and not unset:
                raise Refused("unsupported", f"{op}.{key}: {declared[f'{op}.{key}']}")
            if f"{op}.{key}={value}" in declared:
                raise Refused(
                    "unsupported", f"{op}.{key}={value}: {declared[f'{op}.{key}={value}']}"
                )
        return str(op)

    def close(self) -> None:
        """Release the engine (idempotent)."""
        if not getattr(self, "_closed", False):
            self._closed = True
            self._shutdown()

    # -- lookups, each refusing as the product does -------------------------------------------
    def _volume(self, name: str) -> int:
        if name not in self.size:
            raise Refused("unknown_volume", f"no volume {name!r}")
        return self.size[name]

    def _map(self, name: str) -> Mapping:
        if name not in self.maps:
            raise Refused("unknown_map", f"no map {name!r}")
        return self.maps[name]

    def _range(self, volume: str, block: int, count: int) -> None:
        size = self._volume(volume)
        if block + count > size:
            raise Refused("out_of_range", f"blocks {block}+{count} outside {volume!r} ({size})")

    def _group(self, name: str) -> str:
        if name not in self.group_names:
            raise Refused("unknown_group", f"no group {name!r}")
        return name

    def _startable(self, m: Mapping, name: str, restore: bool) -> None:
        """A map starts again only once its copy is complete (or stopped), from a source that
        is online. A start onto a volume that active maps copy from is a restore: it needs
        the flag, and only one map of a connected set of maps may be restoring at a time."""
        if m.copying:
            raise Refused("bad_state", f"map {name!r} is copying")
        self._online(m.source)
        if not self._read_by_others(m.target):
            return
        if not restore:
            raise Refused("restore_required", f"{m.target!r} is the source of active maps")
        for other in self._linked(m.target):
            if other is not m and other.restoring:
                raise Refused("restore_in_progress", "a map linked to this one is restoring")

    def _online(self, volume: str) -> None:
        """Host I/O is refused (`offline`) to the target of a map stopped before its copy
        completed: its image is gone."""
        for name, m in self.maps.items():
            if m.target == volume and m.stopped:
                raise Refused("offline", f"volume {volume!r} is the target of stopped map {name!r}")

    def _read_by_others(self, volume: str) -> bool:
        return any(o.source == volume and o.copying for o in self.maps.values())

    def _linked(self, volume: str) -> list[Mapping]:
        """The maps connected to a volume through shared volumes (the product's tree)."""
        graph = nx.Graph((m.source, m.target) for m in self.maps.values())
        if volume not in graph:
            return []
        tree = nx.node_connected_component(graph, volume)
        return [m for m in self.maps.values() if m.source in tree]

    def _begin(self, members: list[Mapping]) -> None:
        """Every member's target takes its source's image at one instant."""
        restoring = {id(m): self._read_by_others(m.target) for m in members}
        done = self._start([(m.source, m.target) for m in members])
        for m in members:
            m.active, m.complete, m.restoring = True, m.target in done, restoring[id(m)]
            m.stopped, m.progress = False, 0

    # -- operations --------------------------------------------------------------------------
    def _op_hello(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "protocol": "cascadecheck/1",
            "ops": list(OPS),
            "exposes": ["images", "states"],
            "policies": ["per-type", "mixed"],
            "unsupported": self.declared(),
            "ranges": {"create_volume.size": [1, self.max_blocks]},
            "pace": "own",
        }

    def _op_reset(self, f: dict[str, Any]) -> dict[str, Any]:
        self._wipe()
        self.grain_size = f.get("grain_size", self.grain_size)
        self.size.clear()
        self.maps.clear()
        self.group_names.clear()
        return {"grain_size": self.grain_size}

    def _op_create_volume(self, f: dict[str, Any]) -> None:
        name, size = f["volume"], f["size"]
        if size > self.max_blocks:
            raise Refused("limit", f"at most {self.max_blocks} blocks (declared in hello)")
        if name in self.size:
            raise Refused("exists", f"volume {name!r} exists")
        self._make(name, size * self.block)
        self.size[name] = size

    def _op_delete_volume(self, f: dict[str, Any]) -> None:
        name = f["volume"]
        self._volume(name)
        if any(name in (m.source, m.target) for m in self.maps.values()):
            raise Refused("volume_in_use", f"volume {name!r} is in a map")
        self._drop(name)
        del self.size[name]

    def _op_create_map(self, f: dict[str, Any]) -> None:
        name, source, target = f["map"], f["source"], f["target"]
        if name in self.maps:
            raise Refused("exists", f"map {name!r} exists")
        sizes = self._volume(source), self._volume(target)
        if source == target:
            raise Refused("same_volume", "source and target are the same volume")
        if sizes[0] != sizes[1]:
            raise Refused("size_mismatch", "source and target sizes differ")
        if any(m.target == target for m in self.maps.values()):
            raise Refused("already_target", f"{target!r} is already a target")
        kind = map_type(f)
        if f"create_map.type={kind}" in self.declared():
            raise Refused("unsupported", f"{kind}s: {self.declared()[f'create_map.type={kind}']}")
        preset = 50 if kind == "clone" else 0  # the product's presets
        copy_rate, clean_rate = f.get("copy_rate", preset), f.get("clean_rate", preset)
        if (kind == "snapshot") != (copy_rate == 0):
            raise Refused("bad_request", "a snapshot copies at rate 0, a clone above it")
        group = f.get("group")
        if group is not None:
            self._group(group)
            if any(m.copying for m in self.maps.values() if m.group == group):
                raise Refused("bad_state", f"group {group!r} is active")
        flags = f.get("autodelete", False), f.get("incremental", False)
        m = Mapping(source, target, kind, copy_rate, clean_rate, group, *flags)
        if m.incremental:
            self._recorded(name, m)
        self.maps[name] = m

    def _op_delete_map(self, f: dict[str, Any]) -> None:
        """Delete an idle map, or a stopped one with force (its target is online again)."""
        m = self._map(f["map"])
        if m.copying:
            raise Refused("bad_state", f"map {f['map']!r} is copying: stop it first")
        if m.stopped and not f.get("force", False):
            raise Refused("bad_state", f"map {f['map']!r} is stopped: deleting it needs force")
        if m.stopped:
            self._revive(m.target)
        self._forget(f["map"])

    def _forget(self, name: str) -> None:
        """A map is deleted (by request, or by itself once complete)."""
        if self.maps.pop(name).incremental:
            self._unrecorded(name)

    def _op_start(self, f: dict[str, Any]) -> dict[str, Any]:
        m = self._map(f["map"])
        if m.group is not None:
            raise Refused("group_member", f"map {f['map']!r} is in group {m.group!r}")
        self._startable(m, f["map"], f.get("restore", False))
        self._begin([m])
        restoring = m.restoring
        return {"state": self._settled(f["map"], m), "restoring": restoring}

    def _op_write(self, f: dict[str, Any]) -> None:
        volume, block, data = f["volume"], f["block"], f["data"]
        self._range(volume, block, len(data))
        self._online(volume)
        self._write(volume, block * self.block, encode(data, self.block))

    def _op_read(self, f: dict[str, Any]) -> dict[str, Any]:
        volume, block, count = f["volume"], f["block"], f["count"]
        self._range(volume, block, count)
        self._online(volume)
        raw = self._read(volume, block * self.block, count * self.block)
        if len(raw) != count * self.block:
            raise RuntimeError(f"{self.name}: read returned {len(raw)} bytes")
        return {"data": decode(raw, self.block)}

    def _op_copy(self, f: dict[str, Any]) -> dict[str, Any]:
        m = self._map(f["map"])
        if not m.copying:
            raise Refused("bad_state", f"map {f['map']!r} is not copying: nothing to copy")
        grains = f.get("grains", 1)
        copied = 0
        if m.kind == "clone":
            m.complete = self._copy(m.target, grains)
            copied = grains
        state = self._settled(f["map"], m)
        return {"copied": copied, "state": state, "progress": self._percent(m)}

    def _settled(self, name: str, m: Mapping) -> str:
        """A completed map is idle_or_copied (restoring no more), or gone (autodelete)."""
        if m.complete:
            m.restoring = False
        if m.complete and m.autodelete:
            self._forget(name)
        return m.state

    def _percent(self, m: Mapping) -> int:
        """Progress as the product reports it: monotonic while a copy runs (an engine's own
        figure can restart: a qemu-live stream job restarted when its chain changes)."""
        if not m.active:
            return 0
        m.progress = 100 if m.complete else max(m.progress, self._progress(m.target))
        return m.progress

    def _op_status(self, f: dict[str, Any]) -> dict[str, Any]:
        """The map's state as the product names it: `copying` from its start until a clone's
        background copy is complete, then `idle_or_copied`; a snapshot copies until deleted."""
        m = self._map(f["map"])
        return {
            "state": m.state,
            "progress": self._percent(m),
            "type": m.kind,
            "source": m.source,
            "target": m.target,
            "copy_rate": m.copy_rate,
            "clean_rate": m.clean_rate,
            "incremental": m.incremental,
            "autodelete": m.autodelete,
            "group": m.group,
            "restoring": m.restoring,
            "difference": self._difference(f["map"], m) if m.incremental else 0,
            "dependent_mappings": 0,
        }

    def _op_settle(self, _: dict[str, Any]) -> None:
        for name, m in list(self.maps.items()):
            if m.kind == "clone" and m.copying:
                self._finish(m.target)
                m.complete = True
                self._settled(name, m)
