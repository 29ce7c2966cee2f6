"""The forest is `Spec`'s linked cascades and per-type pair: a refinement check on every forest
of at most a bound of targets.

`proofs/forest.py` proves its claims for every length of each cascade and every position p
the linked cascade hangs from, about its own Int-indexed model. This module ties it to `Spec`
as `proofs/refinement.py` ties the one-cascade model: for every forest of at most `total`
targets (a snapshot cascade A of S, a clone cascade B of S, a clone cascade L of A's target at
p, before and after that target has left A), R maps `Spec`'s state at one grain onto the
forest's positions, and each forest operation steps R-related states to R-related states
(`unbounded-forest-refines-spec`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import z3

from model.logic import Data, Grain, Patch, and_, eq, select
from model.rules import Spec
from model.shape import Shape
from model.state import State

from .forest import (
    Forest,
    background_copy,
    fresh_forest,
    insert,
    linked_top,
    remove_a,
    remove_target,
    source,
    write_a,
    write_linked_head,
    write_source,
    write_target,
)
from .refinement import Link, at, check_links, cleaned_away, index, positions
from .shapes import Situation, after
from .steps import Step
from .verdicts import Outcome


@dataclass(frozen=True)
class ForestShape:
    """Which of `Spec`'s volumes the forest's positions are: S, A's, B's and L's targets from
    their heads, L's head volume, and whether it has left A (then L's head is physical)."""

    source: str
    a: tuple[str, ...]
    b: tuple[str, ...]
    linked: tuple[str, ...]
    head: str
    left: bool


def forest_situation(spec: Spec, na: int, nb: int, nl: int, p: int, left: bool) -> Situation:
    """`Spec`'s shape for a forest: S = V0 with na snapshots and nb clones, nl clones of A's
    target at p (when `left`, an extra target at p that then completed and left A, so L's head
    is physical), and one spare volume for starts; targets are started farthest first."""
    extra = 1 if left else 0
    names = iter(f"V{i}" for i in range(1, na + extra + nb + nl + 2))
    a = [next(names) for _ in range(na + extra)]
    b = [next(names) for _ in range(nb)]
    linked = [next(names) for _ in range(nl)]
    steps = [Step("start", t, "V0", map_type="snapshot") for t in reversed(a)]
    steps += [Step("start", t, "V0", map_type="clone") for t in reversed(b)]
    steps += [Step("start", t, a[p - 1], map_type="clone") for t in reversed(linked)]
    if left:
        steps.append(Step("leave", a[p - 1], complete=True))
    family = f"forest-{na}-{nb}-{nl}-p{p}{'-left' if left else ''}"
    sit = Situation(Shape(("V0", *a, *b, *linked, next(names))), frozenset(), (), family)
    for step in steps:
        sit = after(spec, sit, step)
    return sit


def forest_roles(shape: Shape, head: str) -> ForestShape:
    """Read the forest's roles off a `Spec` shape (L's head volume given)."""

    def chain(kind: str, of: str) -> tuple[str, ...]:
        found = [c for c in shape.chains if c.head == of and c.kind == kind]
        return found[0].targets if found else ()

    a = chain("snapshot", "V0")
    return ForestShape("V0", a, chain("clone", "V0"), chain("clone", head), head, head not in a)


def forest_related(f: Forest, st: State, roles: ForestShape, g: Any) -> Any:
    """R for the forest: each cascade as `related` says for one, S's grain, and where L hangs:
    A's position p (1-based) while its head volume is in A, with that volume's own grain even
    where it does not hold it (once it leaves, L's head presents it), else that grain."""
    parts = [eq(at(f.a.phys, 0), select(st.phys[roles.source], g))]
    for c, targets in ((f.a, roles.a), (f.b, roles.b), (f.linked, roles.linked)):
        parts += positions(c, targets, st, g)
    if roles.left:
        parts += [f.l_own, eq(at(f.linked.phys, 0), select(st.phys[roles.head], g))]
    else:
        p = roles.a.index(roles.head) + 1  # its own grain, held or not: it may become L's head
        own = eq(at(f.a.phys, p), select(st.phys[roles.head], g))
        parts += [z3.Not(f.l_own), eq(f.p, index(p)), own]
    return and_(*parts)


def _forest_cases(sit: Situation, roles: ForestShape) -> list[tuple[str, Any, Any]]:
    """Each forest operation, as `Spec` steps and as the forest's own step."""
    spare = sit.shape.volumes[-1]
    cases: list[tuple[str, Any, Any]] = []

    def writes(label: str, volume: str, write: Callable[[Forest, Any, bool], Forest]) -> None:
        """A whole-grain and a partial write (the payload is data, or a patch)."""
        cases.append((label, Step("write", volume), lambda f, d: write(f, d, True)))
        partial = Step("write", volume, whole=False)
        cases.append((f"partial {label}", partial, lambda f, d: write(f, d, False)))

    writes("write to S", "V0", lambda f, d, w: write_source(f, d, whole=w))
    cases += [
        (
            "insertion into A",
            Step("start", spare, "V0", map_type="snapshot"),
            lambda f, d: replace(f, a=insert(f.a, source(f)), p=f.p + 1),
        ),
        (
            "insertion into B",
            Step("start", spare, "V0", map_type="clone"),
            lambda f, d: replace(f, b=insert(f.b, source(f))),
        ),
        (
            "insertion into L",
            Step("start", spare, roles.head, map_type="clone"),
            lambda f, d: replace(f, linked=insert(f.linked, linked_top(f))),
        ),
    ]
    if roles.left:
        writes("write to L's head", roles.head, write_linked_head)
    for m, v in enumerate(roles.a, start=1):
        writes(f"write to A {m}", v, lambda f, d, w, m=m: write_a(f, m, d, whole=w))
        if len(roles.a) >= 2:
            leave = cleaned_away(v)
            cases.append((f"removal of A {m}", leave, lambda f, d, m=m: remove_a(f, m)))
    for name, targets, field in (("B", roles.b, "b"), ("L", roles.linked, "linked")):
        for m, v in enumerate(targets, start=1):
            leave = cleaned_away(v)

            def on(f: Forest, change: Any, field: str = field) -> Forest:
                return replace(f, **{field: change(getattr(f, field))})

            writes(
                f"write to {name} {m}",
                v,
                lambda f, d, w, m=m, on=on: on(f, lambda c: write_target(c, m, d, w)),
            )
            cases += [
                (
                    f"background copy into {name} {m}",
                    Step("copy", v),
                    lambda f, d, m=m, on=on: on(f, lambda c: background_copy(c, m, c.ref[m])),
                ),
                (
                    f"removal of {name} {m}",
                    leave,
                    lambda f, d, m=m, on=on: on(f, lambda c: remove_target(c, m)),
                ),
            ]
    return cases


def forest_sizes(total: int) -> list[tuple[int, int, int, int, bool]]:
    """Every (nA, nB, nL, p, left) with nA >= 1 and nA + nB + nL <= total."""
    return [
        (na, nb, nl, p, left)
        for na in range(1, total + 1)
        for nb in range(total - na + 1)
        for nl in range(total - na - nb + 1)
        for p in range(1, na + 1)
        for left in (False, True)
    ]


def _forest_links(
    spec: Spec, size: tuple[int, int, int, int, bool], g: Any, d: Any, patch: Any
) -> tuple[Situation, list[Link]]:
    """Every forest operation on the forest of this size, as `Spec` steps and the forest's
    own, from one forest state."""
    na, nb, nl, p, left = size
    sit = forest_situation(spec, na, nb, nl, p, left)
    roles = forest_roles(sit.shape, f"V{p}")  # A's p-th target from the head, as built
    f = fresh_forest(f"_{sit.family}")

    def before(pre: State) -> Any:
        return forest_related(f, pre, roles, g)

    def link(case: tuple[str, Any, Any], index: int) -> Link:
        label, steps, model_step = case
        first = steps if isinstance(steps, Step) else steps[0]
        payload = d if first.whole else patch  # a partial write's payload is a patch

        def after(post: State) -> Any:
            stepped = model_step(f, payload)
            return forest_related(stepped, post, forest_roles(post.shape, roles.head), g)

        return Link(sit.family, label, steps, payload, before, after, first=index == 0)

    return sit, [link(case, i) for i, case in enumerate(_forest_cases(sit, roles))]


def check_forest_refinement(spec: Spec, total: int) -> Outcome:
    """`unbounded-forest-refines-spec`: every forest operation agrees with `Spec` on every
    forest of at most `total` targets (see `proofs/forest.py`)."""
    g = z3.Const("g", Grain)
    d = z3.Const("d", Data)
    patch = z3.Const("patch", Patch)

    shapes = (_forest_links(spec, size, g, d, patch) for size in forest_sizes(total))
    out = check_links("unbounded-forest-refines-spec", "the forest", spec, shapes)
    if out.verdict == "proved":
        out.note = f"every forest of at most {total} targets ({len(forest_sizes(total))} shapes)"
    return out
