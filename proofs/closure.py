"""Is a covered set an induction? Every structural successor of every covered shape is covered.

The step obligations are checked shape by shape. They add up to "every reachable state keeps
the invariant" only for a set of shapes that contains the empty system and is closed under
every structural step (starts of every kind, group starts, stops, leaves, splits, forced stops,
prepares, revives): then an induction on the length of a run lands in the set at every step.
Data steps (writes, copies, cleaning) change no shape. This module checks closure mechanically,
up to renaming (`shapes.canonical`): for each covered shape, every successor the rules produce
is looked up in the set. It also counts, for the samples of larger volume counts (checked, but
not part of a closed set), how many of their successors lie outside every covered set: what
separates them from an induction. The cascade families are not closed by construction (a start
at the longest one makes a cascade one longer) and are not counted: renaming a shape of K+2
volumes means trying (K+2)! orders.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from model.rules import Spec

from .shapes import Situation, after, canonical
from .steps import Step, enabled
from .verdicts import Failure, Outcome


def successors(spec: Spec, sit: Situation) -> Iterator[tuple[Step, Situation]]:
    """Every structural step enabled at the situation, with the situation it leads to."""
    for step in enabled(spec, sit.shape, sit.lost):
        if not step.data:
            yield step, after(spec, sit, step)


@dataclass
class Closure:
    """What a closure check found."""

    shapes: int = 0
    successors: int = 0
    outside: int = 0
    first: tuple[Situation, Step] | None = None  # the first successor outside, and its step


def closure(spec: Spec, shapes: Iterable[Situation], covered: set[tuple]) -> Closure:
    """Every successor of every shape looked up in `covered` (canonical keys)."""
    out = Closure()
    for sit in shapes:
        out.shapes += 1
        for step, nxt in successors(spec, sit):
            out.successors += 1
            if canonical(nxt) not in covered:
                out.outside += 1
                out.first = out.first or (sit, step)
    return out


def check_closed(
    spec: Spec, closed: list[Situation], others: Iterable[Situation] = (), volumes: int = 0
) -> Outcome:
    """`covered-set-closed`: the set claimed as an induction contains the empty system and
    every successor of each of its shapes (and, as a note, how far the samples are from
    closure)."""
    began = time.perf_counter()
    keys = {canonical(s) for s in closed}
    found = closure(spec, closed, keys)
    if not any(not s.shape.maps and not s.lost for s in closed):
        detail = "the set does not contain the empty system"
        return Outcome("covered-set-closed", "failed", 0.0, 0, Failure(None, None, detail))
    if found.first is not None:
        sit, step = found.first
        detail = (
            f"{found.outside} of {found.successors} successors lie outside the set; the first: "
            f"{step.label()} leads out of it"
        )
        return Outcome(
            "covered-set-closed",
            "failed",
            time.perf_counter() - began,
            found.successors,
            Failure(sit, step, detail),
        )
    rest = list(others)
    beyond = closure(spec, rest, keys | {canonical(s) for s in rest})
    out = Outcome("covered-set-closed", "proved", time.perf_counter() - began, found.successors)
    out.note = (
        f"every shape {volumes} volumes reach ({found.shapes}) is closed under every structural "
        f"step ({found.successors} successors, all in the set, up to renaming); of the "
        f"{beyond.shapes} sampled shapes of more volumes, {beyond.outside} of "
        f"{beyond.successors} successors lie outside every covered set: they, and the cascade "
        "families, are checked shapes, not an induction"
    )
    return out
