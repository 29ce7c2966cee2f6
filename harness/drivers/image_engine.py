"""The vocabulary on a real engine that knows volumes, starts and I/O, and no maps.

A real point-in-time-copy engine (QEMU, nbdkit, a reflink file system) has no map names, no
copy types, no map states and none of the product's refusals. `ImageEngine` keeps that
bookkeeping once for every engine driver — volumes, maps and their states (`copying` until a
clone's copy is complete, then `idle_or_copied`), groups, validation, refusals, tokens as
bytes — and leaves an engine a handful of primitives (`_make`, `_drop`, `_start`, `_write`,
`_read`, `_copy`, `_finish`, `_progress`, `_wipe`, `_shutdown`). A refused
operation reaches no primitive, so it changes nothing (an engine may refuse in `_start` or
`_drop`, before it changes anything); a primitive that fails raises, and the harness reports
the engine as crashed. There is no stopping, preparing or cleaning: `hello` says so, and
exposes images and states, never cascade internals.

A vocabulary block is `block` bytes: a token is its UTF-8 bytes padded with zeros ("" is all
zeros), so what a volume reads is what was written, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

MAX_BLOCKS = 65536
# `start_group` hands `_start` every pair of the group at once: qemu-live makes that one QMP
# transaction; the others start the pairs one by one, which is still one instant to a host,
# since the driver serialises all I/O and no member's source is another member's target
# (refused before `_start`)
OPS = (
    "hello",
    "reset",
    "create_volume",
    "delete_volume",
    "create_map",
    "delete_map",
    "start",
    "write",
    "read",
    "copy",
    "settle",
    "status",
    "create_group",
    "delete_group",
    "start_group",
)


class Refused(Exception):
    """A refusal with a vocabulary error code; raised before any primitive runs."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Mapping:
    """A map as the driver keeps it: the engine itself knows only volumes."""

    source: str
    target: str
    kind: str  # clone | snapshot
    copy_rate: int
    clean_rate: int
    group: str | None = None
    active: bool = False
    complete: bool = False


class Fields(dict[str, Any]):
    """A request's fields: a missing one is a `bad_request` refusal, not a crash."""

    def __missing__(self, key: str) -> Any:
        raise Refused("bad_request", f"missing field {key!r}")


def encode(tokens: list[str], block: int) -> bytes:
    """Tokens as bytes: each token's UTF-8 bytes, zero-padded to one block."""
    return b"".join(t.encode()[:block].ljust(block, b"\0") for t in tokens)


def decode(raw: bytes, block: int) -> list[str]:
    """Bytes as tokens: one per block, trailing zeros dropped."""
    return [
        raw[i : i + block].rstrip(b"\0").decode(errors="replace") for i in range(0, len(raw), block)
    ]


class ImageEngine:
    """The vocabulary's bookkeeping; subclasses supply the engine's primitives."""

    name: ClassVar[str] = "image-engine"
    version: ClassVar[str] = "?"
    block: ClassVar[int] = 512  # bytes per vocabulary block

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

    def _start(self, pairs: list[tuple[str, str]]) -> None:
        """Each target takes its source's image, all at one instant."""
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

    def _wipe(self) -> None:
        """Delete every volume (an empty system)."""
        for volume in list(self.size):
            self._drop(volume)

    def _shutdown(self) -> None:
        """Release every process and file the engine holds."""

    # -- the vocabulary ----------------------------------------------------------------------
    def handle(self, request: Any) -> dict[str, Any]:
        """One operation; a refusal changes nothing."""
        op = request.get("op") if isinstance(request, dict) else None
        if op not in OPS:
            return {
                "ok": False,
                "error": "unsupported" if isinstance(op, str) else "bad_request",
                "message": f"operation {op!r} is not supported by {self.name}",
            }
        try:  # only validation refuses; an engine that fails raises, and is reported crashed
            body = getattr(self, f"_op_{op}")(Fields(request))
        except Refused as r:
            return {"ok": False, "error": r.code, "message": str(r)}
        return {"ok": True, **(body or {})}

    def close(self) -> None:
        """Release the engine (idempotent)."""
        if not getattr(self, "_closed", False):
            self._closed = True
            self._shutdown()

    # -- validation --------------------------------------------------------------------------
    def _volume(self, name: Any) -> int:
        if not isinstance(name, str) or name not in self.size:
            raise Refused("unknown_volume", f"no volume {name!r}")
        return self.size[name]

    def _map(self, name: Any) -> Mapping:
        if not isinstance(name, str) or name not in self.maps:
            raise Refused("unknown_map", f"no map {name!r}")
        return self.maps[name]

    def _range(self, volume: Any, block: Any, count: Any) -> None:
        size = self._volume(volume)
        if not (isinstance(block, int) and isinstance(count, int)) or isinstance(block, bool):
            raise Refused("bad_request", "block and count must be integers")
        if block < 0 or count < 1 or block + count > size:
            raise Refused("out_of_range", f"blocks {block}+{count} outside {volume!r} ({size})")

    def _group(self, name: Any) -> str:
        if not isinstance(name, str) or name not in self.group_names:
            raise Refused("unknown_group", f"no group {name!r}")
        return name

    def _startable(self, m: Mapping, name: str) -> None:
        if m.active and not m.complete:
            raise Refused("bad_state", f"map {name!r} is copying")

    # -- operations --------------------------------------------------------------------------
    def _op_hello(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "protocol": "cascadecheck/1",
            "ops": list(OPS),
            "exposes": ["images", "states"],
            "policies": ["per-type", "mixed"],
        }

    def _op_reset(self, f: dict[str, Any]) -> dict[str, Any]:
        grain_size = f.get("grain_size", 2)
        if not isinstance(grain_size, int) or not 1 <= grain_size <= 64:
            raise Refused("bad_request", "grain_size must be 1-64")
        self._wipe()
        self.grain_size = grain_size
        self.size.clear()
        self.maps.clear()
        self.group_names.clear()
        return {"grain_size": grain_size}

    def _op_create_volume(self, f: dict[str, Any]) -> None:
        name, size = f["volume"], f["size"]
        if not isinstance(name, str) or not name:
            raise Refused("bad_request", "a volume name is a non-empty string")
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_BLOCKS:
            raise Refused("bad_request", f"size must be 1-{MAX_BLOCKS} blocks")
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
        if not isinstance(name, str) or not name:
            raise Refused("bad_request", "a map name is a non-empty string")
        if name in self.maps:
            raise Refused("exists", f"map {name!r} exists")
        if source == target:
            self._volume(source)
            raise Refused("same_volume", "source and target are the same volume")
        if self._volume(source) != self._volume(target):
            raise Refused("size_mismatch", "source and target sizes differ")
        if any(m.target == target for m in self.maps.values()):
            raise Refused("already_target", f"{target!r} is already a target")
        kind = f.get("type") or ("snapshot" if f.get("copy_rate") == 0 else "clone")
        if kind not in ("clone", "snapshot"):
            raise Refused("bad_request", "type is clone or snapshot")
        preset = 50 if kind == "clone" else 0  # the product's presets
        copy_rate, clean_rate = f.get("copy_rate", preset), f.get("clean_rate", preset)
        for rate in (copy_rate, clean_rate):
            if not isinstance(rate, int) or isinstance(rate, bool) or not 0 <= rate <= 150:
                raise Refused("bad_request", "rates are integers 0-150")
        if (kind == "snapshot") != (copy_rate == 0):
            raise Refused("bad_request", "a snapshot copies at rate 0, a clone above it")
        group = f.get("group")
        if group is not None:
            self._group(group)
            if any(m.active and not m.complete for m in self.maps.values() if m.group == group):
                raise Refused("bad_state", f"group {group!r} is active")
        self.maps[name] = Mapping(source, target, kind, copy_rate, clean_rate, group)

    def _op_delete_map(self, f: dict[str, Any]) -> None:
        self._map(f["map"])
        del self.maps[f["map"]]

    def _op_start(self, f: dict[str, Any]) -> dict[str, Any]:
        m = self._map(f["map"])
        if m.group is not None:
            raise Refused("group_member", f"map {f['map']!r} is in group {m.group!r}")
        self._startable(m, f["map"])
        self._start([(m.source, m.target)])
        m.active, m.complete = True, False
        return {"state": "copying"}

    def _op_write(self, f: dict[str, Any]) -> None:
        volume, block, data = f["volume"], f["block"], f["data"]
        if not isinstance(data, list) or not data or not all(isinstance(t, str) for t in data):
            raise Refused("bad_request", "data must be a non-empty list of tokens")
        self._range(volume, block, len(data))
        self._write(volume, block * self.block, encode(data, self.block))

    def _op_read(self, f: dict[str, Any]) -> dict[str, Any]:
        volume, block, count = f["volume"], f["block"], f["count"]
        self._range(volume, block, count)
        raw = self._read(volume, block * self.block, count * self.block)
        if len(raw) != count * self.block:
            raise RuntimeError(f"{self.name}: read returned {len(raw)} bytes")
        return {"data": decode(raw, self.block)}

    def _op_copy(self, f: dict[str, Any]) -> dict[str, Any]:
        m = self._map(f["map"])
        grains = f.get("grains", 1)
        if not isinstance(grains, int) or grains < 1:
            raise Refused("bad_request", "grains must be a positive integer")
        if m.kind != "clone" or not m.active or m.complete:
            return {"copied": 0}
        m.complete = self._copy(m.target, grains)
        return {"copied": grains}

    def _op_status(self, f: dict[str, Any]) -> dict[str, Any]:
        """The map's state as the product names it: `copying` from its start until a clone's
        background copy is complete, then `idle_or_copied`; a snapshot copies until deleted."""
        m = self._map(f["map"])
        copying = m.active and not m.complete
        return {
            "state": "copying" if copying else "idle_or_copied",
            "progress": self._progress(m.target) if copying else (100 if m.active else 0),
            "type": m.kind,
            "source": m.source,
            "target": m.target,
            "copy_rate": m.copy_rate,
            "clean_rate": m.clean_rate,
            "group": m.group,
        }

    def _op_settle(self, _: dict[str, Any]) -> None:
        for m in self.maps.values():
            if m.kind == "clone" and m.active and not m.complete:
                self._finish(m.target)
                m.complete = True

    # -- consistency groups -------------------------------------------------------------------
    def _op_create_group(self, f: dict[str, Any]) -> None:
        name = f["group"]
        if not isinstance(name, str) or not name:
            raise Refused("bad_request", "a group name is a non-empty string")
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

    def _op_start_group(self, f: dict[str, Any]) -> dict[str, Any]:
        name = self._group(f["group"])
        members = [(n, m) for n, m in self.maps.items() if m.group == name]
        if not members:
            raise Refused("bad_state", f"group {name!r} is empty")
        for n, m in members:
            self._startable(m, n)
        targets = {m.target for _, m in members}
        if any(m.source in targets for _, m in members):
            raise Refused("bad_request", "a member copies another member's target")
        self._start([(m.source, m.target) for _, m in members])
        for _, m in members:
            m.active, m.complete = True, False
        return {"state": "copying"}
