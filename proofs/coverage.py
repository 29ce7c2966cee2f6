"""What the step obligations cover: the settings of a run, and the situations (shapes, with
the steps that reach them) they are checked at — enumerated once per process for the real
specification."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from model.rules import Spec

from .shapes import (
    GROUP_COMBOS,
    GROUP_PAIRS,
    GROUP_SMALL,
    Situation,
    family_situations,
    group_situations,
    iter_reachable,
    sampled_beyond,
)


@dataclass(frozen=True)
class Settings:
    """How far the suite goes."""

    bound: int = 6  # cascade length K
    volumes: int = 2  # n for the reachable shapes and the bounded search
    # shapes of n+1 volumes (and a quarter, a tenth as many of n+2, n+3) sampled by seeded
    # random walks (0: none)
    sample: int = 200
    depth: int = 2  # structural steps in the bounded search
    data_steps: int = 1  # symbolic data steps around each structural step
    policy: str = "per-type"


GROUP_BOUND = 3  # group starts are checked on the families up to this cascade length


_SHAPES: dict[tuple[str, str, int, int], list[Situation]] = {}  # the real Spec's, per process


def _cached(
    spec: Spec, s: Settings, over: str, build: Callable[[], Iterable[Situation]]
) -> Iterable[Situation]:
    """The situations of the real specification are enumerated once per process (and forked
    workers inherit them); a wrong rule's (a control's) are its own, every time, and found as
    they are needed (a control stops at its first failure)."""
    if type(spec) is not Spec:
        return build()
    key = (over, spec.policy, s.volumes, s.bound, s.sample)
    if key not in _SHAPES:
        _SHAPES[key] = list(build())
    return _SHAPES[key]


def reachable_shapes(spec: Spec, volumes: int) -> Iterable[Situation]:
    """Every shape `volumes` volumes reach (enumerated once per process for the real
    specification: the step pass and the group starts both begin from them)."""
    return _cached(
        spec, Settings(volumes=volumes), "reachable", lambda: iter_reachable(spec, volumes)
    )


def situations(spec: Spec, s: Settings) -> Iterable[Situation]:
    """Every shape the step obligations cover."""
    return _cached(
        spec,
        s,
        "shapes",
        lambda: itertools.chain(
            reachable_shapes(spec, s.volumes),
            family_situations(spec, s.bound),
            sampled_beyond(spec, s.volumes, s.sample),
        ),
    )


def groups(spec: Spec, s: Settings) -> Iterable[Situation]:
    """The shapes group starts begin from (`shapes.group_situations`): the covered shapes of
    two volumes with every combination of created maps of up to four members, the families up
    to `GROUP_BOUND` with those and the six-member one too (whose subsets would be 50 more
    group starts on each of the 130 two-volume shapes, for the order of joining, which the
    families' positions of the source already vary), and with more volumes (`--volumes 3`)
    every shape they reach with the two-map ones (four maps on each of 29,012 shapes would be
    321,263 group starts more)."""
    small = min(s.volumes, Settings.volumes)
    return _cached(
        spec,
        s,
        "groups",
        lambda: itertools.chain(
            group_situations(reachable_shapes(spec, small), GROUP_SMALL),
            group_situations(family_situations(spec, min(s.bound, GROUP_BOUND)), GROUP_COMBOS),
            group_situations(
                reachable_shapes(spec, s.volumes) if s.volumes > small else (), GROUP_PAIRS
            ),
        ),
    )
