"""A wrong read in words: where the expected and the observed data came from."""

from __future__ import annotations

from typing import Any

from ..core.errors import Nonconformance


def explain(requests: list[dict[str, Any]], err: Nonconformance) -> str:
    """For an image failure, the origin of both tokens; otherwise the message itself."""
    if err.kind != "image" or err.volume is None:
        return err.message

    def origin(token: Any) -> str:
        if token in ("", None):
            return "never written"
        for step, op in enumerate(requests, start=1):
            if op.get("op") == "write" and token in op.get("data", []):
                return f"written to {op['volume']} at step {step}"
        return "not written by this run"

    captured = ""
    maps = {op["map"]: op for op in requests if op.get("op") == "create_map"}
    for step, op in enumerate(requests, start=1):
        if op.get("op") == "start" and maps.get(op.get("map"), {}).get("target") == err.volume:
            captured = f", captured when {err.volume} started at step {step}"
    return (
        f"volume {err.volume} block {err.block}: expected {err.expected!r} — "
        f"{origin(err.expected)}{captured} — got {err.got!r} ({origin(err.got)})"
    )
