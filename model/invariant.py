"""The inductive invariant, at one grain.

1. Refinement: every volume with an abstract image reads it — a target through its cascade,
   any other volume from its own grains.
2. Incremental maps: where no difference is recorded the target still equals its source, and
   where it also holds the grain, its physical grain is the source's image.

Together with the rules this is inductive: every operation that starts in a state satisfying it
ends in one (proofs/obligations.py), and an empty system satisfies it.
"""

from __future__ import annotations

from typing import Any

from .logic import all_of, and_, eq, implies, not_, select
from .rules import Spec
from .state import State


def refinement(spec: Spec, st: State, grain: Any) -> Any:
    """Every volume that has an abstract image reads it."""
    return all_of(eq(spec.image(st, v, grain), select(st.ref[v], grain)) for v in st.ref)


def incremental_agreement(st: State, grain: Any) -> Any:
    """An incremental map's unchanged grains: target image = source image, and held ones
    physically so."""
    out = []
    for target in st.diff:
        source = st.shape.map_of(target).source
        if source not in st.ref:
            continue
        same = not_(select(st.diff[target], grain))
        wanted = select(st.ref[source], grain)
        out.append(
            implies(
                and_(same, select(st.split[target], grain)),
                eq(select(st.phys[target], grain), wanted),
            )
        )
        if target in st.ref:
            out.append(implies(same, eq(select(st.ref[target], grain), wanted)))
    return all_of(out)


def invariant(spec: Spec, st: State, grain: Any) -> Any:
    """The inductive invariant."""
    return and_(refinement(spec, st, grain), incremental_agreement(st, grain))
