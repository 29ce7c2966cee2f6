"""Mappings, their states and bitmaps, and the rate table."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

IDLE = "idle_or_copied"
PREPARING = "preparing"
PREPARED = "prepared"
COPYING = "copying"
STOPPING = "stopping"
STOPPED = "stopped"
SUSPENDED = "suspended"
STATES = (IDLE, PREPARING, PREPARED, COPYING, STOPPING, STOPPED, SUSPENDED)
IN_CASCADE = (COPYING, STOPPING, SUSPENDED)  # states whose target holds a cascade position

DEFAULT_RATE = 50  # product default copy and clean rate; a clean rate of 0 stops at this rate


@dataclass
class Map:
    """One point-in-time copy relationship and its grain bitmaps."""

    name: str
    source: str
    target: str
    type: str
    copy_rate: int
    clean_rate: int
    incremental: bool
    autodelete: bool
    group: str | None
    grains: int
    order: int  # creation order; breaks copy-rate ties in group starts
    state: str = IDLE
    split: bytearray = field(default_factory=bytearray)
    diff: bytearray = field(default_factory=bytearray)
    split_count: int = 0
    restoring: bool = False
    restore_ok: bool = False  # prepared with restore
    suspended_from: str | None = None
    started_once: bool = False

    def __post_init__(self) -> None:
        self.split = bytearray(self.grains)
        # the difference bitmap starts "everything differs": the first start copies all
        self.diff = bytearray(b"\x01" * self.grains)

    @property
    def progress(self) -> int:
        """Percentage of grains the target holds, rounded down (100 only when all are held)."""
        return self.split_count * 100 // self.grains

    @property
    def complete(self) -> bool:
        """The target holds every grain."""
        return self.split_count == self.grains

    def set_split(self, grain: int) -> None:
        """Record that the target now holds its own copy of the grain."""
        if not self.split[grain]:
            self.split[grain] = 1
            self.split_count += 1

    def reset_bits(self) -> None:
        """Bits at a start: empty, or for an incremental map keep the grains still identical."""
        if self.incremental:
            self.split = bytearray(s & (1 - d) for s, d in zip(self.split, self.diff, strict=True))
        else:
            self.split = bytearray(self.grains)
        self.split_count = sum(self.split)
        self.diff = bytearray(self.grains)

    def record_difference(self, grain: int) -> None:
        """An incremental map notes that source and target may now differ at the grain."""
        if self.incremental:
            self.diff[grain] = 1

    def difference(self) -> int:
        """Percentage of grains recorded as different."""
        return sum(self.diff) * 100 // self.grains if self.incremental else 0


def grains_per_step(rate: int) -> int:
    """Grains one copy step moves at a rate: each band of ten doubles (product rate table)."""
    rate = rate or DEFAULT_RATE
    band = math.ceil(rate / 10) - 1
    return 1 << band
