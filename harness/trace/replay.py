"""Running a trace against an implementation and checking every `expect`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..drivers import Driver, DriverError
from .format import Trace
from .match import mismatch


@dataclass
class Step:
    """One replayed operation: what was sent, what came back, and what was wrong."""

    index: int
    line: int
    request: dict[str, Any]
    answer: dict[str, Any]
    problem: str | None = None


def reset_request(trace: Trace, policy: str | None = None) -> dict[str, Any]:
    """The operation that gives a trace its empty system."""
    return {"op": "reset", "grain_size": trace.grain_size, "policy": policy or trace.policy}


def replay(trace: Trace, driver: Driver, policy: str | None = None) -> Iterator[Step]:
    """Reset the implementation, then send each operation and compare its answer. Operations
    marked `catch_up` go only to implementations that keep the specification's pace."""
    hello = driver.request({"op": "hello"})
    own_pace = hello.get("ok") is True and hello.get("pace") == "own"
    answer = driver.request(reset_request(trace, policy))
    if not answer.get("ok"):
        raise DriverError("unavailable", f"the implementation refused reset: {answer}")
    for index, op in enumerate(trace.ops, start=1):
        if op.catch_up and own_pace:
            continue
        answer = driver.request(op.request)
        problem = None if op.expect is None else mismatch(op.expect, answer)
        yield Step(index, op.line, op.request, answer, problem)


class VolumeTracker:
    """Volumes that exist, followed from accepted operations (for --show)."""

    def __init__(self) -> None:
        self.sizes: dict[str, int] = {}

    def follow(self, request: dict[str, Any], answer: dict[str, Any]) -> None:
        """Note created and deleted volumes."""
        if not answer.get("ok"):
            return
        if request["op"] == "create_volume":
            self.sizes[request["volume"]] = request["size"]
        elif request["op"] == "delete_volume":
            self.sizes.pop(request["volume"], None)
        elif request["op"] == "reset":
            self.sizes.clear()

    def images(self, driver: Driver) -> dict[str, list[str] | str]:
        """Every volume's blocks, or the error code its read gets."""
        out: dict[str, list[str] | str] = {}
        for volume, size in sorted(self.sizes.items()):
            a = driver.request({"op": "read", "volume": volume, "block": 0, "count": size})
            data = a.get("data")
            out[volume] = data if a.get("ok") and isinstance(data, list) else a.get("error", "?")
        return out
