"""What the session shares with its parts: the log entry, a few state sets, words for ops."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ACTIVE = ("copying", "stopping", "suspended")
# injectable events that could explain a state change no operation caused
FAULT_STATES = {"stopped": "io_error", "idle_or_copied": "io_error", "suspended": "bitmap_offline"}


@dataclass
class Entry:
    """One operation as sent: the implementation's answer and the specification's expectation.
    `origin` is `generated` (chosen by the generator), `observe` (an observation the session
    made and checked), `probe` (a query the session made for itself: internals for the step
    check, states to keep pace) or `catch_up` (background time sent to the specification
    only)."""

    request: dict[str, Any]
    answer: dict[str, Any] | None = None
    expect: dict[str, Any] | None = None
    origin: str = "generated"


def state_is_fault(spec_state: str, state: str) -> bool:
    """A state change an injectable fault (an I/O error, a lost bitmap) would explain."""
    return spec_state in ACTIVE and state in FAULT_STATES


def show(op: dict[str, Any]) -> str:
    """An operation in a few words."""
    fields = " ".join(f"{k}={v}" for k, v in op.items() if k != "op" and k != "data")
    if "data" in op:
        fields += f" data={len(op['data'])} block(s)" if isinstance(op["data"], list) else ""
    return f"{op.get('op')} {fields}".strip()
