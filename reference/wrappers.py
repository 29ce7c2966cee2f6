"""Black-box mutants: wrappers that forward every operation to the reference engine and corrupt one
answer, or add one side effect, under one condition — the way a vendor's bug looks from
outside. Several are wrong only at one edge of the vocabulary's own parameters (a grain size,
a token length, a rate band, a name, a volume size), so only a generator that covers the whole
input domain finds them. And two drivers that refuse: everything, or every start.
"""

from __future__ import annotations

from typing import Any

from .engine import Engine
from .mutants import TypesMixed


class Wrapper:
    """Forwards to an engine; subclasses change one thing."""

    engine_class: type[Engine] = Engine

    def __init__(self) -> None:
        self.engine = self.engine_class()
        self.maps: dict[str, dict[str, Any]] = {}  # create_map requests, by name

    def handle(self, request: Any) -> dict[str, Any]:
        answer = self.engine.handle(request)
        if isinstance(request, dict) and answer.get("ok"):
            if request.get("op") == "create_map":
                self.maps[request["map"]] = dict(request)
            elif request.get("op") == "reset":
                self.maps.clear()
        return self.change(request, answer) if isinstance(request, dict) else answer

    def change(self, request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        """The one corruption (none here)."""
        return answer

    def refuse(self, code: str) -> dict[str, Any]:
        return {"ok": False, "error": code, "message": f"refused by {type(self).__name__}"}


class RestoringNeverReported(Wrapper):
    """`status` never says a map is restoring."""

    def change(self, request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if request["op"] == "status" and answer.get("ok"):
            answer["restoring"] = False
        return answer


class DependentsHiddenWhileStopping(Wrapper):
    """`dependents` of a stopping map is empty."""

    def change(self, request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if request["op"] == "dependents" and answer.get("ok"):
            status = self.engine.handle({"op": "status", "map": request["map"]})
            if status.get("state") == "stopping":
                answer["maps"] = []
        return answer


class CopyOverstated(Wrapper):
    """A `copy` step claims every grain it was allowed, even when there were fewer to copy."""

    def change(self, request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if request["op"] == "copy" and answer.get("ok") and "grains" in request:
            answer["copied"] = max(answer["copied"], request["grains"])
        return answer


class ImageHeadsHidden(Wrapper):
    """`cascades` leaves out cascades whose head presents another target's image (cascades of
    cascades)."""

    def change(self, request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if request["op"] == "cascades" and answer.get("ok"):
            answer["cascades"] = [c for c in answer["cascades"] if c["head_mode"] != "image"]
        return answer


class RefusedDeleteWipes(Wrapper):
    """A delete of a volume still in use is refused — after wiping its first block."""

    def handle(self, request: Any) -> dict[str, Any]:
        answer = super().handle(request)
        if request.get("op") == "delete_volume" and answer.get("error") == "volume_in_use":
            self.engine.phys[request["volume"]][0] = ""
        return answer


class SpontaneousIoError(Wrapper):
    """Every 10th write since the last reset stops a copying map with an I/O error no one
    injected (and it does not declare that it may fault)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def handle(self, request: Any) -> dict[str, Any]:
        answer = super().handle(request)
        if isinstance(request, dict) and request.get("op") == "reset":
            self.writes = 0
        if isinstance(request, dict) and request.get("op") == "write" and answer.get("ok"):
            self.writes += 1
            if self.writes % 10 == 0:
                for name, m in self.engine.maps.items():
                    if m.state == "copying":
                        self.engine.handle({"op": "inject", "map": name, "event": "io_error"})
                        break
        return answer


class FaultsDeclared(SpontaneousIoError):
    """The same faults, declared in hello (`may_fault`): each is counted, none is a verdict."""

    def change(self, request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if request["op"] == "hello":
            answer["may_fault"] = True
        return answer


class TypesMixedBehindCascades(Wrapper):
    """Clones and snapshots share one cascade under the per-type policy, and internals are not
    exposed: only the `cascades` answer shows it."""

    engine_class = TypesMixed

    def change(self, request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if request["op"] == "hello":
            answer["exposes"] = ["images", "states"]
        if request["op"] == "cascades" and answer.get("ok"):
            for c in answer["cascades"]:
                maps = [self.maps.get(n, {}) for n in c["maps"] if n]
                kinds = {
                    m.get("type") or ("snapshot" if m.get("copy_rate") == 0 else "clone")
                    for m in maps
                }
                c["type"] = kinds.pop() if len(kinds) == 1 else "clone"
        return answer


class LargeGrainLastBlockLost(Wrapper):
    """With grains of more than 8 blocks, a read of a volume's last block returns ''."""

    def change(self, request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if request["op"] == "read" and answer.get("ok") and self.engine.grain_size > 8:
            size = len(self.engine.phys.get(request["volume"], []))
            last = size - 1 - request["block"]
            if 0 <= last < len(answer["data"]):
                answer["data"][last] = ""
        return answer


class LongTokensTruncated(Wrapper):
    """Tokens longer than 200 characters are stored cut to 200."""

    def handle(self, request: Any) -> dict[str, Any]:
        if isinstance(request, dict) and request.get("op") == "write":
            data = request.get("data")
            if isinstance(data, list) and all(isinstance(t, str) for t in data):
                request = {**request, "data": [t[:200] for t in data]}
        return super().handle(request)


class SlowestBandDoubled(Wrapper):
    """A `copy` without `grains` of a map whose rate is in the slowest band (1-10) moves two
    grains, not one."""

    def handle(self, request: Any) -> dict[str, Any]:
        if isinstance(request, dict) and request.get("op") == "copy" and "grains" not in request:
            m = self.engine.maps.get(request.get("map"))
            if m is not None and 1 <= m.copy_rate <= 10 and m.state == "copying":
                request = {**request, "grains": 2}
        return super().handle(request)


class WideNamesRefused(Wrapper):
    """Names with characters outside ASCII are refused as bad_request."""

    def handle(self, request: Any) -> dict[str, Any]:
        if isinstance(request, dict):
            names = [request.get(k) for k in ("volume", "map", "group", "source", "target")]
            if any(isinstance(n, str) and not n.isascii() for n in names):
                return self.refuse("bad_request")
        return super().handle(request)


class BigVolumesRefused(Wrapper):
    """Volumes of more than 65536 blocks are refused (`limit`), and not declared."""

    def handle(self, request: Any) -> dict[str, Any]:
        if isinstance(request, dict) and request.get("op") == "create_volume":
            size = request.get("size")
            if isinstance(size, int) and size > 65536:
                return self.refuse("limit")
        return super().handle(request)


class RefusesEverything(Wrapper):
    """Says hello and resets; refuses everything else. It must never conform."""

    def handle(self, request: Any) -> dict[str, Any]:
        if isinstance(request, dict) and request.get("op") in ("hello", "reset"):
            return super().handle(request)
        return self.refuse("bad_state")


class RefusesEveryStart(Wrapper):
    """Refuses every start and group start (2763 steps used to conform)."""

    def handle(self, request: Any) -> dict[str, Any]:
        if isinstance(request, dict) and request.get("op") in ("start", "start_group"):
            return self.refuse("bad_state")
        return super().handle(request)


WRAPPERS: tuple[type[Wrapper], ...] = (
    RestoringNeverReported,
    DependentsHiddenWhileStopping,
    CopyOverstated,
    ImageHeadsHidden,
    RefusedDeleteWipes,
    SpontaneousIoError,
    TypesMixedBehindCascades,
    LargeGrainLastBlockLost,
    LongTokensTruncated,
    SlowestBandDoubled,
    WideNamesRefused,
    BigVolumesRefused,
    RefusesEveryStart,
)
REFUSERS: tuple[type[Wrapper], ...] = (RefusesEverything, RefusesEveryStart)
