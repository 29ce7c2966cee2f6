"""`qemu-offline`: QEMU's qcow2 backing chains, driven with `qemu-img` and one `qemu-io`.

A real, independently written point-in-time-copy engine behind the vocabulary. Every volume is
the top file of a qcow2 backing chain. Starting S->T freezes S's top file (it becomes a shared,
read-only backing node) and gives S and T each a new empty overlay on it: both read as S did at
that instant, both stay writable (redirect-on-write, the "frozen node" layout of
`shared/engines.md` §2). A clone's background copy is `qemu-img rebase -b ""`, which copies
every cluster the target does not hold from its backing chain into the target.

Blocks of the vocabulary are 64-byte regions; a token is stored as its UTF-8 bytes padded with
zeros ("" is all zeros) and read back with `read -v` hex dumps. One `qemu-io` process serves
every volume over a pipe (`close`, `open`, operation), never a process per operation; it is
closed before every `qemu-img` mutation, because an open image holds a write lock on its chain.

Supports: volumes, maps of both types, start (restore needs nothing special), writes, reads,
`copy`/`settle` (clone background copy), delete. Exposes images only (no states, no cascade
internals): there is no stopping, cleaning or group start in qcow2 chains.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

BLOCK = 64
PROMPT = "qemu-io> "
HEX = re.compile(r"^[0-9a-f]{8}:  ((?:[0-9a-f]{2} ){1,16})")
OPS = [
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
]


class Refused(Exception):
    """A refusal with a vocabulary error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class QemuIo:
    """One long-lived qemu-io process, fed over a pipe, answering until its prompt."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            ["qemu-io"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=0,
        )
        self.current: str | None = None
        self._until_prompt()

    def _until_prompt(self) -> str:
        assert self.proc.stdout is not None
        out = []
        while True:
            ch = self.proc.stdout.read(1)
            if ch == "":
                raise RuntimeError(f"qemu-io exited: {''.join(out)[-300:]}")
            out.append(ch)
            if ch == " " and "".join(out[-len(PROMPT) :]) == PROMPT:
                return "".join(out[: -len(PROMPT)])

    def command(self, line: str) -> str:
        """Run one command and return what it printed."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self._until_prompt()

    def use(self, path: str | None) -> None:
        """Open this image (closing the previous one), or close everything."""
        if self.current == path:
            return
        if self.current is not None:
            self.command("close")
            self.current = None
        if path is not None:
            out = self.command(f"open -o driver=qcow2 {path}")
            if out.strip():
                raise RuntimeError(f"qemu-io cannot open {path}: {out.strip()}")
            self.current = path

    def close(self) -> None:
        """Quit the process."""
        if self.proc.poll() is None:
            try:
                self.use(None)
                assert self.proc.stdin is not None
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=5)
            except (OSError, RuntimeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=5)


class QemuOffline:
    """The vocabulary on qcow2 backing chains."""

    def __init__(self) -> None:
        missing = [t for t in ("qemu-img", "qemu-io") if shutil.which(t) is None]
        if missing:
            raise RuntimeError(f"needs {', '.join(missing)} (apt-get install qemu-utils)")
        self.dir = Path(tempfile.mkdtemp(prefix="cascadecheck-qemu-"))
        self.io = QemuIo()
        self.files = 0
        self._reset({})

    # -- plumbing ---------------------------------------------------------------------
    def _file(self) -> str:
        self.files += 1
        return str(self.dir / f"n{self.files}.qcow2")

    def _img(self, *args: str) -> None:
        self.io.use(None)  # an open image locks its chain
        done = subprocess.run(["qemu-img", *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"qemu-img {' '.join(args)}: {done.stderr.strip()}")

    def _volume(self, name: Any) -> int:
        if not isinstance(name, str) or name not in self.size:
            raise Refused("unknown_volume", f"no volume {name!r}")
        return self.size[name]

    def _map(self, name: Any) -> dict[str, Any]:
        if not isinstance(name, str) or name not in self.maps:
            raise Refused("unknown_map", f"no map {name!r}")
        return self.maps[name]

    def _range(self, volume: str, block: Any, count: int) -> None:
        size = self._volume(volume)
        if not isinstance(block, int) or block < 0 or count < 1 or block + count > size:
            raise Refused("out_of_range", f"blocks {block}+{count} outside {volume!r} ({size})")

    # -- the vocabulary --------------------------------------------------------------------
    def handle(self, request: Any) -> dict[str, Any]:
        """One operation; a refusal changes nothing."""
        if not isinstance(request, dict) or request.get("op") not in OPS:
            op = request.get("op") if isinstance(request, dict) else None
            return {
                "ok": False,
                "error": "unsupported" if isinstance(op, str) else "bad_request",
                "message": f"operation {op!r} is not supported by qemu-offline",
            }
        try:
            body = getattr(self, f"_{request['op']}")(request)
        except Refused as r:
            return {"ok": False, "error": r.code, "message": str(r)}
        except (KeyError, TypeError) as err:
            return {"ok": False, "error": "bad_request", "message": f"bad field: {err}"}
        return {"ok": True, **(body or {})}

    def _hello(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": "qemu-offline",
            "version": "qcow2 via qemu-img/qemu-io 7.x",
            "protocol": "cascadecheck/1",
            "ops": OPS,
            "exposes": ["images"],
            "policies": ["per-type", "mixed"],
        }

    def _reset(self, f: dict[str, Any]) -> dict[str, Any]:
        self.io.use(None)
        for path in self.dir.glob("*.qcow2"):
            path.unlink()
        self.grain_size = int(f.get("grain_size", 2))
        self.size: dict[str, int] = {}
        self.top: dict[str, str] = {}
        self.maps: dict[str, dict[str, Any]] = {}
        return {"grain_size": self.grain_size}

    def _create_volume(self, f: dict[str, Any]) -> None:
        name, size = f["volume"], f["size"]
        if not isinstance(name, str) or not isinstance(size, int) or not 1 <= size <= 65536:
            raise Refused("bad_request", "volume name and size 1-65536 blocks")
        if name in self.size:
            raise Refused("exists", f"volume {name!r} exists")
        path = self._file()
        self._img("create", "-q", "-f", "qcow2", path, str(size * BLOCK))
        self.size[name], self.top[name] = size, path

    def _delete_volume(self, f: dict[str, Any]) -> None:
        name = f["volume"]
        self._volume(name)
        if any(name in (m["source"], m["target"]) for m in self.maps.values()):
            raise Refused("volume_in_use", f"volume {name!r} is in a map")
        del self.size[name], self.top[name]

    def _create_map(self, f: dict[str, Any]) -> None:
        name, source, target = f["map"], f["source"], f["target"]
        if name in self.maps:
            raise Refused("exists", f"map {name!r} exists")
        if source == target:
            self._volume(source)
            raise Refused("same_volume", "source and target are the same volume")
        if self._volume(source) != self._volume(target):
            raise Refused("size_mismatch", "source and target sizes differ")
        if any(m["target"] == target for m in self.maps.values()):
            raise Refused("already_target", f"{target!r} is already a target")
        kind = f.get("type") or ("snapshot" if f.get("copy_rate", 50) == 0 else "clone")
        self.maps[name] = {"source": source, "target": target, "type": kind}

    def _delete_map(self, f: dict[str, Any]) -> None:
        self._map(f["map"])
        del self.maps[f["map"]]

    def _start(self, f: dict[str, Any]) -> dict[str, Any]:
        m = self._map(f["map"])
        if m.get("active") and not m.get("complete"):
            raise Refused("bad_state", f"map {f['map']!r} is copying")
        frozen = self.top[m["source"]]  # becomes a read-only backing node
        source, target = self._file(), self._file()
        for path in (source, target):
            self._img("create", "-q", "-f", "qcow2", "-b", frozen, "-F", "qcow2", path)
        self.top[m["source"]], self.top[m["target"]] = source, target
        m["complete"], m["active"] = False, True
        return {"state": "copying"}

    def _write(self, f: dict[str, Any]) -> None:
        volume, block, data = f["volume"], f["block"], f["data"]
        if not isinstance(data, list) or not all(isinstance(t, str) for t in data):
            raise Refused("bad_request", "data must be a list of tokens")
        self._range(volume, block, len(data))
        raw = b"".join(t.encode()[:BLOCK].ljust(BLOCK, b"\0") for t in data)
        payload = self.dir / "payload.bin"
        payload.write_bytes(raw)
        self.io.use(self.top[volume])
        out = self.io.command(f"write -s {payload} {block * BLOCK} {len(raw)}")
        if "wrote" not in out:
            raise RuntimeError(f"qemu-io write failed: {out.strip()}")

    def _read(self, f: dict[str, Any]) -> dict[str, Any]:
        volume, block, count = f["volume"], f["block"], f["count"]
        self._range(volume, block, count)
        self.io.use(self.top[volume])
        out = self.io.command(f"read -v {block * BLOCK} {count * BLOCK}")
        raw = bytearray()
        for line in out.splitlines():
            match = HEX.match(line)
            if match:
                raw += bytes.fromhex(match.group(1).replace(" ", ""))
        if len(raw) != count * BLOCK:
            raise RuntimeError(f"qemu-io read returned {len(raw)} bytes: {out[-200:]}")
        return {
            "data": [
                bytes(raw[i : i + BLOCK]).rstrip(b"\0").decode(errors="replace")
                for i in range(0, len(raw), BLOCK)
            ]
        }

    def _copy(self, f: dict[str, Any]) -> dict[str, Any]:
        m = self._map(f["map"])
        return {"copied": self._flatten(m)}

    def _settle(self, _: dict[str, Any]) -> None:
        for m in self.maps.values():
            self._flatten(m)

    def _flatten(self, m: dict[str, Any]) -> int:
        """A clone's background copy, all at once: the target takes every cluster it lacks."""
        if m["type"] != "clone" or m.get("complete"):
            return 0
        self._img("rebase", "-q", "-f", "qcow2", "-b", "", self.top[m["target"]])
        m["complete"] = True
        return 1

    def close(self) -> None:
        """Stop qemu-io and remove every file."""
        self.io.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __del__(self) -> None:
        if hasattr(self, "io"):
            self.close()
