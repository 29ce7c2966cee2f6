#!/usr/bin/env python3
"""A complete, small implementation of the cascadecheck vocabulary, as a vendor would plug one in.

Run it as `cascadecheck check --driver "exec:python3 examples/naive_driver.py"`: it reads one JSON
request per line on stdin and writes one JSON answer per line on stdout (docs/protocol.md).

It is deliberately *not* a cascade: every started map keeps its own bitmap against its own
source, and a write to a volume copies the old grain into every target of that volume that does
not hold it yet (the naive multi-target design the cascade patents improve on: the cost of a
write grows with the number of targets). It supports images, starts, stops, background copy and
deletes; groups, restore, incremental maps and cascade internals are `unsupported`.
It imports nothing from cascadecheck: a vendor's driver needs only the protocol.
"""

from __future__ import annotations

import json
import sys
from typing import Any

SUPPORTED = [
    "hello",
    "reset",
    "create_volume",
    "delete_volume",
    "create_map",
    "delete_map",
    "start",
    "stop",
    "write",
    "read",
    "copy",
    "settle",
    "status",
]


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class NaiveEngine:
    """Point-in-time copies with one copy-on-write bitmap per target and no cascades."""

    def __init__(self, grain_size: int = 2) -> None:
        self.grain_size = grain_size
        self.blocks: dict[str, list[str]] = {}
        self.maps: dict[str, dict[str, Any]] = {}
        self.copies = 0

    # -- protocol -------------------------------------------------------------------
    def handle(self, req: Any) -> dict[str, Any]:
        try:
            if not isinstance(req, dict) or req.get("op") not in SUPPORTED:
                op = req.get("op") if isinstance(req, dict) else None
                return {"ok": False, "error": "unsupported", "message": f"op {op!r}"}
            self.copies = 0
            body = getattr(self, "op_" + req["op"])(req) or {}
            return {"ok": True, **body}
        except Refused as r:
            return {"ok": False, "error": r.code, "message": str(r)}
        except (KeyError, TypeError, ValueError) as err:
            return {"ok": False, "error": "bad_request", "message": f"bad field: {err}"}

    def op_hello(self, _: dict) -> dict:
        return {
            "name": "naive-example",
            "version": "1",
            "protocol": "cascadecheck/1",
            "ops": SUPPORTED,
            "exposes": ["images", "states"],
            "policies": ["per-type"],
        }

    def op_reset(self, req: dict) -> dict:
        self.__init__(int(req.get("grain_size", self.grain_size)))  # type: ignore[misc]
        return {}

    def op_create_volume(self, req: dict) -> None:
        name, size = req["volume"], req["size"]
        if name in self.blocks:
            raise Refused("exists", name)
        if not isinstance(size, int) or size < 1:
            raise Refused("bad_request", "size")
        self.blocks[name] = [""] * size

    def op_delete_volume(self, req: dict) -> None:
        self._volume(req["volume"])
        if any(req["volume"] in (m["source"], m["target"]) for m in self.maps.values()):
            raise Refused("volume_in_use", req["volume"])
        del self.blocks[req["volume"]]

    def op_create_map(self, req: dict) -> None:
        name, src, tgt = req["map"], req["source"], req["target"]
        if req.get("group") or req.get("incremental"):
            raise Refused("unsupported", "groups and incremental maps")
        if name in self.maps:
            raise Refused("exists", name)
        if len(self._volume(src)) != len(self._volume(tgt)):
            raise Refused("size_mismatch", f"{src} {tgt}")
        if src == tgt:
            raise Refused("same_volume", src)
        if any(m["target"] == tgt for m in self.maps.values()):
            raise Refused("already_target", tgt)
        grains = -(-len(self.blocks[src]) // self.grain_size)
        self.maps[name] = {
            "source": src,
            "target": tgt,
            "rate": req.get("copy_rate", 50),
            "state": "idle_or_copied",
            "split": [False] * grains,
        }

    def op_delete_map(self, req: dict) -> None:
        m = self._map(req["map"])
        if m["state"] == "copying" or (m["state"] == "stopped" and not req.get("force")):
            raise Refused("bad_state", m["state"])
        del self.maps[req["map"]]

    def op_start(self, req: dict) -> dict:
        m = self._map(req["map"])
        if m["state"] == "copying":
            raise Refused("bad_state", "copying")
        if self._offline(m["source"]):
            raise Refused("offline", m["source"])
        if any(x["state"] == "copying" for x in self._maps_from(m["target"])):
            raise Refused("unsupported", "restore")
        m["split"] = [False] * len(m["split"])
        m["state"] = "copying"
        return {"state": "copying"}

    def op_stop(self, req: dict) -> dict:
        m = self._map(req["map"])
        if m["state"] == "stopped":
            raise Refused("bad_state", "stopped")
        if m["state"] == "copying":
            for dep in self._maps_from(m["target"]):  # targets reading through it: copy first
                if dep["state"] == "copying":
                    for g, held in enumerate(dep["split"]):
                        if not held:
                            self._copy_into(dep, g)
            m["state"] = "idle_or_copied" if all(m["split"]) else "stopped"
        return {"state": m["state"]}

    def op_write(self, req: dict) -> dict:
        vol, block, data = req["volume"], req["block"], req["data"]
        self._range(vol, block, len(data))
        if self._offline(vol):
            raise Refused("offline", vol)
        gs = self.grain_size
        for g in sorted({(block + i) // gs for i in range(len(data))}):
            for dep in self._maps_from(vol):  # every target, every time: the naive cost
                if dep["state"] == "copying" and not dep["split"][g]:
                    self._copy_into(dep, g)
            own = self._incoming(vol)
            if own is not None and not own["split"][g]:
                self._copy_into(own, g)  # fill the rest of the grain from the source image
        self.blocks[vol][block : block + len(data)] = data
        return {"grain_copies": self.copies}

    def op_read(self, req: dict) -> dict:
        vol, block, count = req["volume"], req["block"], req["count"]
        self._range(vol, block, count)
        if self._offline(vol):
            raise Refused("offline", vol)
        return {"data": [self._image(vol, b) for b in range(block, block + count)]}

    def op_copy(self, req: dict) -> dict:
        m = self._map(req["map"])
        if m["state"] != "copying":
            raise Refused("bad_state", m["state"])
        done = 0
        for g, held in enumerate(m["split"]):
            if done >= req.get("grains", 1) or m["rate"] == 0:
                break
            if not held:
                self._copy_into(m, g)
                done += 1
        self._complete()
        return {"copied": done, "state": m["state"]}

    def op_settle(self, _: dict) -> None:
        for m in self.maps.values():
            if m["state"] == "copying" and m["rate"] > 0:
                for g, held in enumerate(m["split"]):
                    if not held:
                        self._copy_into(m, g)
        self._complete()

    def op_status(self, req: dict) -> dict:
        m = self._map(req["map"])
        progress = sum(m["split"]) * 100 // len(m["split"])
        return {
            "state": m["state"],
            "progress": progress,
            "source": m["source"],
            "target": m["target"],
            "copy_rate": m["rate"],
        }

    # -- the engine -----------------------------------------------------------------
    def _image(self, vol: str, block: int) -> str:
        m = self._incoming(vol)
        if m is not None and m["state"] == "copying" and not m["split"][block // self.grain_size]:
            return self._image(m["source"], block)
        return self.blocks[vol][block]

    def _copy_into(self, m: dict, g: int) -> None:
        lo = g * self.grain_size
        hi = min(lo + self.grain_size, len(self.blocks[m["target"]]))
        # the target receives exactly what it reads now, so no image changes
        data = [self._image(m["target"], b) for b in range(lo, hi)]
        self.blocks[m["target"]][lo:hi] = data
        m["split"][g] = True
        self.copies += 1

    def _complete(self) -> None:
        for m in self.maps.values():
            if m["state"] == "copying" and all(m["split"]):
                m["state"] = "idle_or_copied"

    def _incoming(self, vol: str) -> dict | None:
        for m in self.maps.values():
            if m["target"] == vol and m["state"] in ("copying", "stopped"):
                return m if m["state"] == "copying" else None
        return None

    def _maps_from(self, vol: str) -> list[dict]:
        return [m for m in self.maps.values() if m["source"] == vol]

    def _offline(self, vol: str) -> bool:
        return any(m["target"] == vol and m["state"] == "stopped" for m in self.maps.values())

    def _volume(self, name: str) -> list[str]:
        if name not in self.blocks:
            raise Refused("unknown_volume", name)
        return self.blocks[name]

    def _map(self, name: str) -> dict:
        if name not in self.maps:
            raise Refused("unknown_map", name)
        return self.maps[name]

    def _range(self, vol: str, block: int, count: int) -> None:
        size = len(self._volume(vol))
        if block < 0 or count < 1 or block + count > size:
            raise Refused("out_of_range", f"{vol} {block}+{count}")


def main() -> None:
    engine = NaiveEngine()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except json.JSONDecodeError as err:
            answer = {"ok": False, "error": "bad_request", "message": f"not JSON: {err}"}
        else:
            ident = request.pop("id", None) if isinstance(request, dict) else None
            answer = engine.handle(request)
            if ident is not None:
                answer["id"] = ident  # answers echo the request's id (docs/protocol.md)
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
