"""Which volumes have an image, against which volumes take I/O: the point-in-time rules against
the state machine and the availability rules.

The step obligations check what volumes with an abstract image read; a volume the
point-in-time rules leave without one is checked for nothing. So which volumes have one must
itself be pinned, and by something other than `model/pointintime.py`: the mapping state
machine (`model/machine.py`) and the availability rules (`model/availability.py`, the
harness's oracle of which volumes take I/O). Each covered situation is replayed along its
path as machine transitions (`TRANSITION_OF`: a start prepares, flushes and starts; a stop
goes stopping; a leave is cleaned or completed; a forced stop takes its dependents down; a
revive deletes the stopped map), and

- every transition taken is legal in the machine;
- every volume that takes I/O by the availability rules has an image;
- every target whose map is stopped or prepared has none (its image is gone).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from model.availability import MapView, offline_volumes
from model.machine import (
    COPYING,
    DELETED,
    IDLE,
    PREPARED,
    PREPARING,
    STOPPED,
    STOPPING,
    legal,
)
from model.rules import Spec
from model.shape import Shape

from .shapes import Situation, after, empty
from .steps import Step, subtree
from .verdicts import Failure, Outcome

LOSES = frozenset({STOPPED, PREPARING, PREPARED})  # states whose target has no image


Move = tuple[str, str, str, str]  # map (by target), from, cause, to


def transitions(states: dict[str, str], shape: Shape, step: Step) -> list[Move]:
    """The machine transitions a proof step is, given each map's state and the shape before
    it (a map deleted is created anew by a later start: idle)."""
    t = step.target

    def at(target: str) -> str:
        state = states.get(target, IDLE)
        return IDLE if state == DELETED else state

    if step.kind in ("start", "group"):
        out = []
        for m in step.members or (t,):
            now = at(m)
            if now != PREPARED:
                out += [(m, now, "prepare", PREPARING), (m, PREPARING, "flushed", PREPARED)]
            out.append((m, PREPARED, "start", COPYING))
        return out
    if step.kind == "stop":
        return [(t, at(t), "stop", STOPPING)]
    if step.kind == "leave":
        if step.complete:
            cause = "completed" if at(t) == COPYING else "cleaned"
            return [(t, at(t), cause, IDLE)]
        return [(t, at(t), "cleaned", STOPPED)]
    if step.kind == "split":
        return [(t, at(t), "split", IDLE)]
    if step.kind == "force":
        out = [(t, at(t), "forced", IDLE if step.complete else STOPPED)]
        return out + [(v, at(v), "dependent", STOPPED) for v in subtree(shape, t)]
    if step.kind == "prepare":
        return [(t, at(t), "prepare", PREPARING), (t, PREPARING, "flushed", PREPARED)]
    if step.kind == "revive":  # a prepared map must be stopped before its forced delete
        stop = [(t, at(t), "stop", STOPPED)] if at(t) in (PREPARING, PREPARED) else []
        return [*stop, (t, STOPPED if stop else at(t), "deleted", DELETED)]
    return []  # writes, copies and cleaning change no map's state


def check_images_follow_availability(
    situations: Iterable[Situation],
    lost_of: Callable[[Situation], frozenset[str]] = lambda sit: sit.lost,
    spec: Spec | None = None,
) -> Outcome:
    """`images-follow-availability` over the covered situations, found by `spec`'s rules (see
    the module text); `lost_of` says which volumes have no image (a control gives a wrong one)."""
    began = time.perf_counter()
    spec = spec or Spec()
    checked = 0
    seen: set[str] = set()  # which of the claims' premises occurred (vacuity)
    for sit in situations:
        checked += 1
        states: dict[str, str] = {}
        sources: dict[str, str] = {}
        here = empty(len(sit.shape.volumes))
        # the shape along the path matters only to forced stops and group starts
        replay = any(step.kind in ("force", "group") for step in sit.path)
        for step in sit.path:
            for target, before, cause, to in transitions(states, here.shape, step):
                if not legal((before, cause, to)):
                    detail = f"{step.label()} is {before} -{cause}-> {to}, not a legal transition"
                    return _failed(began, checked, sit, step, detail)
                states[target] = to
            if step.kind == "start":
                sources[step.target] = step.source
            for member in step.members:
                sources[member] = here.shape.map_of(member).source
            here = after(spec, here, step) if replay else here
        # the situation forgets maps that shape nothing any more; the replay keeps them
        views = [MapView(sources.get(t, ""), t, state, 0) for t, state in states.items()]
        seen.update(state for state in states.values() if state in (*LOSES, DELETED))
        down = offline_volumes(views)
        lost = lost_of(sit)
        if missing := sorted(v for v in sit.shape.volumes if v not in down and v in lost):
            return _failed(began, checked, sit, None, f"{missing} take I/O but have no image")
        if kept := sorted(v for v in sit.shape.volumes if states.get(v) in LOSES and v not in lost):
            detail = f"{kept} are stopped or prepared yet keep an image"
            return _failed(began, checked, sit, None, detail)
    if unseen := sorted({STOPPED, PREPARED, DELETED} - seen):
        return _failed(began, checked, None, None, f"vacuous: no covered map is ever {unseen}")
    return Outcome("images-follow-availability", "proved", time.perf_counter() - began, checked)


def forget_revived(sit: Situation) -> frozenset[str]:
    """Control: point-in-time rules that leave a revived target without an image."""
    last = sit.path[-1] if sit.path else None
    return sit.lost | ({last.target} if last and last.kind == "revive" else set())


def _failed(
    began: float, checked: int, sit: Situation | None, step: Step | None, detail: str
) -> Outcome:
    if sit is not None:
        detail = f"after {' ; '.join(s.label() for s in sit.path)}: {detail}"
    return Outcome(
        "images-follow-availability",
        "failed",
        time.perf_counter() - began,
        checked,
        Failure(sit, step, detail),
    )
