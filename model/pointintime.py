"""What a user sees: point-in-time images, with no cascades in sight.

A system's images map each volume to an array over grains. Four rules say
everything a user can observe about point-in-time copy:

1. A start gives each target its source's image at that instant (a group start:
   every target at the same instant; a restore is a start onto a source).
2. A host write changes the written volume's image and no other.
3. A target whose copy stopped before it completed is offline: its image is gone.
4. Nothing else changes an image: background copy, cleaning, completion, splitting
   and stopping a complete copy are invisible.

(And, outside the four: a stopped target deleted with force is online again, reading
whatever it physically holds — the product says "possibly inconsistent data".)

The cascade rules (`model/rules`) are proved to refine these; the harness holds
every implementation to them. Nothing here knows how an engine stores anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .logic import merge, select, store

Images = Mapping[str, Any]  # volume -> array over grains


def start_images(images: Images, pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Rule 1: each target (source, target) takes its source's image, all at one instant."""
    pairs = list(pairs)
    new = dict(images)
    for source, target in pairs:
        new[target] = images[source]
    return new


def write_image(
    images: Images, volume: str, grain: Any, payload: Any, whole: bool
) -> dict[str, Any]:
    """Rule 2: a host write replaces (whole grain) or patches (partial) one volume's grain."""
    old = select(images[volume], grain)
    new_value = payload if whole else merge(old, payload)
    return {**images, volume: store(images[volume], grain, new_value)}


def lose_image(images: Images, volume: str) -> dict[str, Any]:
    """Rule 3: a target stopped before completion (or being prepared) has no image."""
    return {v: a for v, a in images.items() if v != volume}


def revive_image(images: Images, volume: str, contents: Any) -> dict[str, Any]:
    """Forced delete of a stopped map: the target is online again, its image what it holds."""
    return {**images, volume: contents}
