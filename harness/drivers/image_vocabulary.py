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
    "prepare": "the engines have no write cache to flush before a start: a start freezes the "
    "source at once, so there is no preparing or prepared phase to show",
    "inject": "the product's faults (a failed flush, a bitmap going offline, an I/O error on a "
    "copy) have no counterpart the driver could cause in the engine without faking it",
    "dependents": "no target depends on another's data (every old grain is in a frozen node "
    "or a shared extent), so there are no dependent maps to list where the product lists the "
    "maps a forced stop would take with it",
    "cascades": "the engines keep trees of frozen nodes (or shared extents), not cascades: "
    "there is no cascade order to report",
    "internals": "the engines keep no per-map split or difference bitmaps to expose (qemu-live's "
    "dirty bitmaps record writes, not which grains a target holds), so the per-step check of "
    "the rules cannot run",
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
