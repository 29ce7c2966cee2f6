"""The parametric model's obligations (`proofs/graph.py` has the model and its rules): each
step keeps the invariant in every system of cascades at once, with one wrong rule per
obligation as its control and every premise shown satisfiable on a concrete system.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import z3

from model.logic import Data, Patch

from .graph import (
    ALL,
    Graph,
    Node,
    Universe,
    Vol,
    attaches,
    copied,
    copy_rules,
    dependents_closed,
    forced,
    fresh_graph,
    fresh_node,
    inserted,
    inv,
    left,
    may_leave,
    may_split,
    opened,
    read_step,
    split_off,
    type_separated,
    well_formed,
    written_value,
)
from .unbounded import valid
from .verdicts import Failure, Outcome

# Each claim, the wrong rule its control puts in, and that rule in words.
CONTROL_OF = {
    "unbounded-graph-reads": "image-head-physical",
    "unbounded-graph-writes": "no-preservation",
    "unbounded-graph-copies": "no-preservation",
    "unbounded-graph-starts": "attach-frozen",
    "unbounded-graph-leaves": "leave-ignores-linked",
    "unbounded-graph-splits": "split-relinks-above",
    "unbounded-graph-forced-stops": "force-spares-linked",
    "unbounded-graph-type-separation": "attach-any-kind",
}
WRONG_RULES = {
    "image-head-physical": "a read through an image head takes the head volume's own grain",
    "no-preservation": "a copy into a restored volume does not first preserve its frozen "
    "heads' readers",
    "attach-frozen": "a new target may join after a frozen head (its source's old grains)",
    "leave-ignores-linked": "a position may leave while the first target of a cascade its "
    "image heads still needs the grain",
    "attach-any-kind": "a new target joins a cascade of either kind",
    "split-relinks-above": "a split hands what hung below the target to the position above it",
    "force-spares-linked": "a forced stop leaves the cascades linked from its dependents' "
    "images in place",
}


# the volumes and nodes a claim is about: in a concrete system, among its elements
SPECIAL_VOLS = z3.Consts("w s t", Vol)
SPECIAL_NODES = z3.Consts("a nt h n", Node)

Claim = Callable[[Graph, Universe], tuple[Any, Any, Any]]


def _premises(wrong: str) -> dict[str, Claim]:
    """Every claim as (premises, conclusion, witness) about a graph over a universe, so the
    same formulas are proved over every graph and shown satisfiable on a concrete one; the
    witness is what makes a concrete case worth having (a copy that preserves a frozen head's
    reader, a target inserted mid-cascade onto a volume that heads a cascade, ...)."""
    w, s, t = SPECIAL_VOLS
    a, nt, h, _ = SPECIAL_NODES
    d = z3.Const("d", Data)
    patch = z3.Const("patch", Patch)
    kind, complete = z3.Bools("kind complete")
    cp = z3.Function("cp", Node, z3.BoolSort())

    def some(u: Universe, body: Callable[[Any], Any]) -> Any:
        return z3.Not(u.every_node(lambda n: z3.Not(body(n))))

    def chained(g: Graph, u: Universe, written: Any = None) -> Any:
        # a preservation copy: into a reader of a frozen head whose volume is copied into
        up = g.up
        return some(
            u,
            lambda r: z3.And(
                cp(r),
                z3.Not(g.tgt(up(r))),
                z3.Not(g.ihead(up(r))),
                g.haspos(g.vol(up(r))),
                g.vol(up(r)) != (g.vol(r) if written is None else written),
            ),
        )

    def base(g: Graph, u: Universe) -> Any:
        return z3.And(well_formed(g, u), type_separated(g, u), inv(g, u))

    def writes(g: Graph, u: Universe) -> tuple[Any, Any, Any]:
        parts = []
        for data, whole in ((d, True), (patch, False)):
            value = written_value(g, w, data, whole)
            after = copied(g, cp, w, value)
            parts.append(z3.And(inv(after, u), after.im(w) == value))
        pre = z3.And(base(g, u), copy_rules(g, cp, u, w, wrong))
        return pre, z3.And(parts), chained(g, u, w)

    def copies(g: Graph, u: Universe) -> tuple[Any, Any, Any]:
        pre = z3.And(base(g, u), copy_rules(g, cp, u, None, wrong))
        return pre, inv(copied(g, cp), u), chained(g, u)

    def start_premises(g: Graph, u: Universe) -> Any:
        return z3.And(base(g, u), attaches(g, a, s, t, kind, wrong), fresh_node(g, nt, u), nt != a)

    def mid_cascade(g: Graph, u: Universe) -> Any:
        return some(u, lambda r: z3.And(g.tgt(r), g.up(r) == a))

    def starts(g: Graph, u: Universe) -> tuple[Any, Any, Any]:
        after = inserted(g, a, t, nt, kind)
        new_cascade = opened(g, s, h, kind)
        return (
            z3.And(start_premises(g, u), fresh_node(g, h, u)),
            z3.And(
                well_formed(after, u),
                inv(after, u),
                after.im(t) == g.im(s),  # rule 1: the target takes its source's image
                well_formed(new_cascade, u),
                inv(new_cascade, u),
            ),
            z3.And(  # mid-cascade, onto a volume heading a cascade (a restore)
                mid_cascade(g, u),
                some(u, lambda n: z3.And(z3.Not(g.tgt(n)), z3.Not(g.ihead(n)), g.vol(n) == t)),
                some(u, lambda r: z3.And(g.tgt(r), g.vol(g.up(r)) == t)),
            ),
        )

    def leaves(g: Graph, u: Universe) -> tuple[Any, Any, Any]:
        after = left(g, t)
        return (
            z3.And(base(g, u), may_leave(g, t, complete, u, wrong)),
            z3.And(
                well_formed(after, u),
                inv(after, u),
                z3.Implies(complete, after.im(t) == g.im(t)),  # completion keeps the image
            ),
            z3.And(  # a next target and a linked cascade's first target, both lacking it
                some(u, lambda r: z3.And(g.tgt(r), g.up(r) == g.pos(t))),
                some(u, lambda r: z3.And(g.tgt(r), g.ihead(g.up(r)), g.vol(g.up(r)) == t)),
            ),
        )

    gone = z3.Function("gone", Node, z3.BoolSort())

    def splits(g: Graph, u: Universe) -> tuple[Any, Any, Any]:
        after = split_off(g, t, h, wrong)
        return (
            z3.And(base(g, u), may_split(g, t), fresh_node(g, h, u)),
            z3.And(well_formed(after, u), inv(after, u), after.im(t) == g.im(t)),
            z3.And(  # something hung below t, and t's image heads a cascade
                some(u, lambda r: z3.And(g.tgt(r), g.up(r) == g.pos(t))),
                some(u, lambda r: z3.And(g.tgt(r), g.ihead(g.up(r)), g.vol(g.up(r)) == t)),
            ),
        )

    def forced_stops(g: Graph, u: Universe) -> tuple[Any, Any, Any]:
        after = forced(g, gone)
        return (
            z3.And(
                base(g, u),
                dependents_closed(g, t, gone, u, wrong),
                z3.Implies(complete, g.held(t)),
            ),
            z3.And(
                well_formed(after, u),
                inv(after, u),
                z3.Implies(complete, after.im(t) == g.im(t)),  # a complete copy stays
            ),
            z3.And(  # a dependent in the cascade and one through an image head
                some(u, lambda r: z3.And(g.tgt(r), g.up(r) == g.pos(t))),
                some(u, lambda r: z3.And(g.tgt(r), g.ihead(g.up(r)), gone(r))),
            ),
        )

    def separation(g: Graph, u: Universe) -> tuple[Any, Any, Any]:
        # one start, one new cascade or one leave: each keeps every target reading its own kind
        which = z3.Int("which")
        return (
            z3.Or(
                z3.And(which == 0, start_premises(g, u)),
                z3.And(which == 1, base(g, u), fresh_node(g, h, u)),
                z3.And(which == 2, base(g, u), may_leave(g, t, complete, u)),
                z3.And(which == 3, base(g, u), may_split(g, t), fresh_node(g, h, u)),
                z3.And(which == 4, base(g, u), dependents_closed(g, t, gone, u)),
            ),
            z3.And(
                z3.Implies(which == 0, type_separated(inserted(g, a, t, nt, kind), u)),
                z3.Implies(which == 1, type_separated(opened(g, s, h, kind), u)),
                z3.Implies(which == 2, type_separated(left(g, t), u)),
                z3.Implies(which == 3, type_separated(split_off(g, t, h), u)),
                z3.Implies(which == 4, type_separated(forced(g, gone), u)),
            ),
            z3.And(which == 0, mid_cascade(g, u)),
        )

    def reads(g: Graph, u: Universe) -> tuple[Any, Any, Any]:
        pre, post, n = read_step(g, u, wrong)
        return pre, post, z3.And(g.tgt(n), z3.Not(g.held(g.vol(n))), g.ihead(g.up(n)))

    return {
        "unbounded-graph-reads": reads,
        "unbounded-graph-writes": writes,
        "unbounded-graph-copies": copies,
        "unbounded-graph-starts": starts,
        "unbounded-graph-leaves": leaves,
        "unbounded-graph-splits": splits,
        "unbounded-graph-forced-stops": forced_stops,
        "unbounded-graph-type-separation": separation,
    }


def finite_universe(nodes: int, vols: int) -> tuple[Universe, Any]:
    """A universe of that many distinct nodes and volumes, and the closure of a graph's
    structure over it (every function of the structure lands in it): a claim over it is
    quantifier-free, so Z3 decides it — used to find a system where a claim's premises hold
    (vacuity) and one where a control's wrong rule breaks it."""
    ns = [z3.Const(f"N{i}", Node) for i in range(nodes)]
    vs = [z3.Const(f"W{i}", Vol) for i in range(vols)]
    return Universe(ns, vs), (ns, vs)


def closed(g: Graph, ns: list[Any], vs: list[Any]) -> Any:
    """The graph's structure stays within the finite universe."""

    def among(x: Any, xs: list[Any]) -> Any:
        return z3.Or([x == y for y in xs])

    return z3.And(
        z3.Distinct(*ns),
        z3.Distinct(*vs),
        *(z3.And(among(g.vol(n), vs), among(g.up(n), ns)) for n in ns),
        *(among(g.pos(v), ns) for v in vs),
        *(among(x, ns) for x in SPECIAL_NODES),
        *(among(x, vs) for x in SPECIAL_VOLS),
    )


SIZE = (6, 5)  # nodes and volumes of the concrete systems searched (vacuity, controls)


def _domain(ns: list[Any], vs: list[Any]) -> Any:
    """The sorts hold exactly the universe's elements (so a model of the finite expansion is
    a model of the quantified formulas too)."""
    x, y = z3.Const("x!dom", Node), z3.Const("y!dom", Vol)
    return z3.And(
        z3.ForAll([x], z3.Or([x == n for n in ns])), z3.ForAll([y], z3.Or([y == v for v in vs]))
    )


def _search(*facts: Any) -> z3.ModelRef | None:
    solver = z3.Solver()
    solver.set("timeout", 60_000)
    solver.add(*facts)
    return solver.model() if solver.check() == z3.sat else None


def check_graph(wrong: str = "", only: set[str] | None = None) -> list[Outcome]:
    """Check every claim of the parametric model (or, with `wrong`, the claims its control
    targets): first a search of the concrete systems of `SIZE` for one that breaks it
    (quantifier-free, so decided: how a control is caught), then the claim over every
    system; then vacuity — the premises, quantified as proved, hold of some concrete system
    with the claim's witness (a preservation chain, a restore mid-cascade, ...)."""
    out = []
    for name, claim in _premises(wrong).items():
        if (only is not None and name not in only) or (wrong and CONTROL_OF[name] != wrong):
            continue
        began = time.perf_counter()
        g = fresh_graph("")
        u, (ns, vs) = finite_universe(*SIZE)
        pre, post, witness = claim(g, u)
        broken = _search(closed(g, ns, vs), pre, z3.Not(post))
        if broken is not None:
            verdict, detail = "failed", f"a system of {SIZE[0]} nodes breaks it: {broken}"[:600]
        else:
            pre, post, _ = claim(g, ALL)
            verdict, detail = valid(z3.Implies(pre, post))
            if verdict == "proved":
                example = _search(closed(g, ns, vs), _domain(ns, vs), pre, witness)
                if example is None:
                    verdict, detail = "failed", "vacuous: no concrete system meets its premises"
        failure = Failure(None, None, detail) if detail else None
        out.append(Outcome(name, verdict, time.perf_counter() - began, 1, failure))
    return out
