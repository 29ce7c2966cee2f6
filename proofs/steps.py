"""Operations as proofs see them: which are enabled in a shape, their effect, their preconditions.

A step is one operation of the vocabulary at the granularity of the rules: a host write of one
grain (whole or partial), one grain of background copy or cleaning, a start, the beginning of a
stop, a position leaving (completed, or stopped with or without its grains), a split, a forced
stop, a prepare, a forced delete that revives a stopped target. Data-dependent enabling
conditions ("no reader needs this grain any more", "the target holds every grain") are
preconditions over the grains a proof looks at; structural ones decide whether the step is listed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from model.logic import all_of, implies, select
from model.pointintime import lose_image, revive_image, start_images, write_image
from model.rules import Spec
from model.shape import MapInfo, Shape
from model.state import State

MAP_KINDS = (("snapshot", False), ("clone", False), ("clone", True))  # type, incremental


@dataclass(frozen=True)
class Step:
    """One operation: its kind and arguments."""

    # write | copy | clean | start | group | stop | leave | split | force | prepare | revive
    kind: str
    target: str  # (a group start: its first member)
    source: str = ""
    whole: bool = True
    complete: bool = False
    map_type: str = "snapshot"
    incremental: bool = False
    members: tuple[str, ...] = ()  # a group start's targets (their maps are in the shape)

    @property
    def data(self) -> bool:
        """A step on one grain (write, copy, clean); the others change structure."""
        return self.kind in ("write", "copy", "clean")

    def label(self) -> str:
        """A short name for reports."""
        if self.kind == "write":
            return f"write {self.target} ({'whole' if self.whole else 'partial'})"
        if self.kind == "start":
            inc = " incremental" if self.incremental else ""
            return f"start {self.source}->{self.target} ({self.map_type}{inc})"
        if self.kind == "group":
            return f"group start {', '.join(self.members)}"
        if self.kind in ("leave", "force"):
            return f"{self.kind} {self.target} ({'complete' if self.complete else 'incomplete'})"
        return f"{self.kind} {self.target}"


def subtree(shape: Shape, target: str) -> list[str]:
    """Every active target that reads, directly or not, through the target's position."""
    out: list[str] = []
    todo = list(shape.readers(shape.position(target)))  # type: ignore[arg-type]
    while todo:
        node = todo.pop()
        volume = shape.volume_at(node)
        if volume not in out:
            out.append(volume)
            todo += shape.readers(node)
    return out


def enabled(spec: Spec, shape: Shape, lost: frozenset[str]) -> Iterator[Step]:
    """Every step the structure allows (data preconditions are separate)."""
    active = set(shape.active())
    online = [v for v in shape.volumes if v not in lost]
    for v in online:
        for whole in (True, False):
            yield Step("write", v, whole=whole)
    for t in shape.active():
        if shape.map_of(t).type == "clone" and t not in shape.stopping:
            yield Step("copy", t)
        yield Step("clean", t)
        if t not in shape.stopping:
            yield Step("stop", t)
        for complete in (True, False):
            if complete or t in shape.stopping:  # only a stop ends an incomplete copy
                yield Step("leave", t, complete=complete)
            yield Step("force", t, complete=complete)
        yield Step("split", t)
    maps = dict(shape.maps)
    for t in shape.volumes:
        if t in active:
            continue
        for s in online:
            if s == t or s in shape.stopping:
                continue
            if t in maps and maps[t].source == s:
                info = maps[t]
                yield Step("start", t, s, map_type=info.type, incremental=info.incremental)
            else:
                for map_type, incremental in MAP_KINDS:
                    yield Step("start", t, s, map_type=map_type, incremental=incremental)
        if t in lost:
            yield Step("revive", t)
        elif t in maps:
            yield Step("prepare", t)
    yield from group_starts(shape, lost)


GROUP_SIZES = (2, 3, 4)  # every subset of these sizes is started together...
SUBSETS_UP_TO = 6  # ...where at most this many maps are idle (else only all of them at once)


def group_starts(shape: Shape, lost: frozenset[str]) -> Iterator[Step]:
    """Group starts of every set of created, idle maps the product would start together:
    distinct targets, online sources that are not stopping and not another member's target.
    Every subset of `GROUP_SIZES` members (where at most `SUBSETS_UP_TO` maps are idle), and,
    where more maps are idle, all of them at once (so a rule that orders only the first few
    members of a large group is started too)."""
    active = set(shape.active())
    idle = [
        (t, m)
        for t, m in shape.maps
        if t not in active and m.source not in lost and m.source not in shape.stopping
    ]
    subsets = GROUP_SIZES if len(idle) <= SUBSETS_UP_TO else ()
    every = (len(idle),) if len(idle) > max(GROUP_SIZES) else ()
    for size in (*subsets, *every):
        for group in itertools.combinations(idle, size):
            targets = {t for t, _ in group}
            if not any(m.source in targets for _, m in group):
                yield Step("group", group[0][0], members=tuple(t for t, _ in group))


def with_map(shape: Shape, step: Step) -> Shape:
    """The shape with the map a start step needs."""
    maps = dict(shape.maps)
    current = maps.get(step.target)
    if current and current.source == step.source and current.type == step.map_type:
        return shape
    return shape.with_map(step.target, MapInfo(step.source, step.map_type, step.incremental))


def shape_before(shape: Shape, step: Step) -> Shape:
    """The shape a step starts from: a start's with the map it needs defined, else as it is."""
    return with_map(shape, step) if step.kind == "start" else shape


def apply(spec: Spec, st: State, step: Step, grain: Any = None, payload: Any = None) -> State:
    """The state after a step (data steps act on `grain`; writes write `payload`): the rules
    step the cascades, grains and bitmaps, and `next_images` steps the abstract images, apart.
    The rules get a state with no images at all, so they can neither read nor change them."""
    images = next_images(st, step, grain, payload)
    post = _rules(spec, st.evolve(copies=(), ref=MappingProxyType({})), step, grain, payload)
    return post.evolve(ref=images)


def next_images(st: State, step: Step, grain: Any = None, payload: Any = None) -> dict[str, Any]:
    """The abstract images after a step, by the point-in-time rules alone (`model.pointintime`):
    a write changes its volume's image, a start gives the target its source's, a target stopped
    before completing (or prepared, or taken down by a forced stop) has none, a revived one
    reads what it holds; nothing else changes an image."""
    ref: dict[str, Any] = dict(st.ref)
    if step.kind == "write":
        return write_image(ref, step.target, grain, payload, step.whole)
    if step.kind == "start":
        return start_images(ref, [(step.source, step.target)])
    if step.kind == "group":
        return start_images(ref, [(st.shape.map_of(t).source, t) for t in step.members])
    if step.kind == "leave" and not step.complete:
        return lose_image(ref, step.target)
    if step.kind == "force":
        for victim in sorted(replaced_images(st, step)):
            ref = lose_image(ref, victim)
        return ref
    if step.kind == "prepare":
        return lose_image(ref, step.target)
    if step.kind == "revive":
        return revive_image(ref, step.target, st.phys[step.target])
    return ref


def replaced_images(st: State, step: Step) -> set[str]:
    """The volumes whose image a step replaces wholesale, by the point-in-time rules as
    `next_images` applies them: a start's targets, a target stopped before completing,
    prepared, revived or taken down by a forced stop."""
    if step.kind == "start":
        return {step.target}
    if step.kind == "group":
        return set(step.members)
    if step.kind == "force":
        return ({step.target} if not step.complete else set()) | set(subtree(st.shape, step.target))
    if step.kind in ("prepare", "revive") or (step.kind == "leave" and not step.complete):
        return {step.target}
    return set()


def _rules(spec: Spec, st: State, step: Step, grain: Any, payload: Any) -> State:
    """The cascade rules' part of a step."""
    if step.kind == "write":
        return spec.host_write(st, step.target, grain, payload, step.whole)
    if step.kind == "copy":
        return spec.background_copy(st, step.target, grain)
    if step.kind == "clean":
        return spec.clean_grain(st, step.target, grain)
    if step.kind == "start":
        return spec.start(st, [step.target])
    if step.kind == "group":
        return spec.start(st, list(step.members))
    if step.kind == "stop":
        return spec.begin_stop(st, step.target)
    if step.kind == "leave":
        return spec.leave(st, step.target, step.complete)
    if step.kind == "split":
        return spec.split(st, step.target)
    if step.kind == "force":
        return spec.force_stop(st, step.target, subtree(st.shape, step.target), step.complete)
    if step.kind == "prepare":
        return spec.prepare(st, step.target)
    assert step.kind == "revive"
    return spec.revive(st, step.target)


def precondition(spec: Spec, st: State, step: Step, grains: Sequence[Any]) -> Any:
    """What must hold at every grain for the step to be taken (checked at the given grains)."""
    t = step.target
    held = [select(st.split[t], x) for x in grains] if t in st.shape.active() else []
    if step.kind == "write" and t in st.shape.stopping:
        return all_of(held)  # a stopping target accepts I/O only once it holds every grain
    if step.kind == "leave":
        return all_of(spec.may_leave(st, t, step.complete, x) for x in grains)
    if step.kind == "split":
        return all_of(spec.may_split(st, t, x) for x in grains)
    if step.kind == "force":
        return implies(step.complete, all_of(held)) if step.complete else True
    return True


# -- states along a run (shared by the bounded search and the concrete replay) -------------


def prune_shape(shape: Shape) -> Shape:
    """Forget maps that no longer shape anything: inactive, non-incremental ones."""
    active = set(shape.active())
    return replace(shape, maps=tuple((t, m) for t, m in shape.maps if t in active or m.incremental))


def pruned(st: State) -> State:
    """The state with its shape pruned, and the bitmaps of forgotten maps dropped."""
    shape = prune_shape(st.shape)
    keep = {t for t, _ in shape.maps}
    return st.evolve(
        shape=shape,
        split={t: a for t, a in st.split.items() if t in keep},
        diff={t: a for t, a in st.diff.items() if t in keep},
    )


def empty_state(shape: Shape, blank: Any) -> State:
    """Every volume holds `blank` everywhere, and every image equals its contents."""
    return State(
        shape=shape,
        phys=dict.fromkeys(shape.volumes, blank),
        split={},
        diff={},
        ref=dict.fromkeys(shape.volumes, blank),
    )


def fresh_bitmaps(st: State, step: Step, const: Callable[[bool], Any]) -> State:
    """A start of a new map gets bitmaps (all clear; an incremental one records everything);
    `const(value)` makes an array over the grains (a Z3 constant array, or a concrete one)."""
    shape = with_map(st.shape, step)
    split, diff = dict(st.split), dict(st.diff)
    if step.target not in split or st.shape.map_of(step.target) != shape.map_of(step.target):
        split[step.target] = const(False)
        diff.pop(step.target, None)
        if step.incremental:
            diff[step.target] = const(True)
    return st.evolve(shape=shape, split=split, diff=diff)
