"""What every engine driver shares besides the engine class itself: the operations they support,
the limits they all declare, their refusals, a map as the driver keeps it, and tokens as bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_BLOCKS = 65536
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
    "stop",
    "stop_group",
    "status",
    "create_group",
    "delete_group",
    "start_group",
)
NO_DEPENDENTS = (
    "redirect-on-write keeps every old grain in a frozen node, so no target depends on another "
    "target's data: a forced stop has no dependents to take with it, where the product's stops "
    "the maps that read through the stopped target (the driver would have to invent them)"
)
# what no engine driver here does, and why (each engine adds its own `limits`)
DECLARED = {
    "create_map.incremental": "this engine records no differences between a source and a "
    "target (qemu-live does, with QEMU's dirty bitmaps): a restart copies everything anew",
    "stop.force": NO_DEPENDENTS,
    "stop_group.force": NO_DEPENDENTS,
    "dependency_states": "redirect-on-write keeps every old grain in a frozen node, so no "
    "target ever depends on another: a clone's map completes when its own background copy "
    "does, and a snapshot's never does",
}


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
    autodelete: bool = False
    incremental: bool = False
    active: bool = False
    complete: bool = False
    restoring: bool = False
    stopped: bool = False  # stopped before its copy completed: the target is offline
    progress: int = 0  # the most the engine has reported since the start: never goes back

    @property
    def state(self) -> str:
        """The map's state in the vocabulary's names."""
        if self.stopped:
            return "stopped"
        return "copying" if self.copying else "idle_or_copied"

    @property
    def copying(self) -> bool:
        """Started and not complete: the engine still works for it (and it for others)."""
        return self.active and not self.complete


def encode(tokens: list[str], block: int) -> bytes:
    """Tokens as bytes: each token's UTF-8 bytes, zero-padded to one block."""
    return b"".join(t.encode().ljust(block, b"\0") for t in tokens)


def decode(raw: bytes, block: int) -> list[str]:
    """Bytes as tokens: one per block, trailing zeros dropped."""
    return [
        raw[i : i + block].rstrip(b"\0").decode(errors="replace") for i in range(0, len(raw), block)
    ]
