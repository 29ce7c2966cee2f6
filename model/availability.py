"""Which volumes accept host I/O, from the states of the maps (the product's state table)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

REFUSES_TARGET_IO = ("preparing", "prepared", "stopped", "suspended")


@dataclass(frozen=True)
class MapView:
    """What availability depends on: a map's ends, state and progress."""

    source: str
    target: str
    state: str
    progress: int


def offline_volumes(maps: Iterable[MapView]) -> set[str]:
    """Targets of preparing/prepared/stopped/suspended maps and of incomplete stopping maps,
    and sources of suspended maps, refuse host I/O; every other volume accepts it."""
    out: set[str] = set()
    for m in maps:
        if m.state in REFUSES_TARGET_IO or (m.state == "stopping" and m.progress < 100):
            out.add(m.target)
        if m.state == "suspended":
            out.add(m.source)
    return out


def loses_image(old_state: str | None, new_state: str) -> bool:
    """A target's image is gone when its map is prepared or stops before completing."""
    return new_state in ("preparing", "prepared", "stopped") and old_state != new_state
