"""The parametric model is `Spec`: at every covered shape, each step of `Spec` is a step of
the graph model (`proofs/graph.py`).

A concrete shape *is* a graph: its nodes (cascade, place) and volumes become distinct
constants, and the structure functions are pinned on them (a node's volume, whether it is a
target or an image head, what it reads through, its cascade's kind, a volume's position).
The data are `Spec`'s own terms at one grain g: the split bit, the physical grain, and as the
ghost what the volume reads (`Spec.image`). For every step of `Spec` the link covers — a whole
or partial host write to every volume, a grain of background copy or cleaning into every
position, a start (plain maps: an incremental restart keeps bits the graph model does not
track), a position leaving (completed or stopped) — it checks, quantifier-free, that

- the step's premises in the graph model hold: the copies `Spec` made (the grains whose bit
  it set) obey the graph's copy rules (only into targets lacking the grain, and into every
  one whose upstream the step disturbs — the written volume's readers and, along restores,
  every frozen head's); `Spec`'s attach point is one the graph's insertion rule allows;
  `Spec`'s leave precondition implies the graph's;
- the graph's step gives `Spec`'s next state: the same structure on every node of the new
  shape (a node the new shape no longer has is unused in the graph), the same split bits and
  physical grains at g, and no change at any other grain.

So at every covered shape, `Spec`'s rules are the parametric model's, and the model's
claims (proved for every system of cascades) hold of `Spec` there. That the two agree beyond
the covered shapes is not shown: the link is bounded, the model's claims are not.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import z3

from model.logic import Data, Grain, Patch, select
from model.rules import Spec
from model.shape import IMAGE, Shape
from model.shape import Node as ShapeNode
from model.state import State

from .coverage import reachable_shapes
from .graph import (
    NODE_PARTS,
    VOL_PARTS,
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
    left,
    may_leave,
    may_split,
    opened,
    split_off,
    written_value,
)
from .shapes import GROUP_SMALL, Situation, chain_families, group_situations, sampled
from .steps import Step, enabled, precondition, subtree
from .steps import _rules as spec_rules
from .sweep import pre_state, shared, situation_terms
from .verdicts import Failure, Outcome

IDENTITY = ("stop", "prepare", "revive")  # steps that change nothing the graph has
LINKED = ("write", "copy", "clean", "start", "group", "leave", "split", "force", *IDENTITY)
UNGROUPED = tuple(kind for kind in LINKED if kind != "group")  # where no maps are idle together
LINK_LENGTH = 2  # `prove` links the families up to this length...
LINK_SAMPLES = 10  # ...and this many of the four-volume samples (the benchmark links all)
TIMEOUT_MS = 20_000


@dataclass
class Pinned:
    """A concrete shape as a graph: the constants, the graph's functions, their pinning."""

    graph: Graph
    nodes: dict[ShapeNode, Any]
    vols: dict[str, Any]
    facts: list[Any]


def structure_facts(
    g: Graph, shape: Shape, nodes: dict[ShapeNode, Any], vols: dict[str, Any]
) -> list[Any]:
    """The shape's structure, as facts about the graph's functions on the constants."""
    facts = []
    for (ci, place), c in nodes.items():
        chain = shape.chains[ci]
        volume = chain.volume_at(place)
        image = place == 0 and chain.head_mode == IMAGE
        facts += [
            g.vol(c) == vols[volume],
            g.tgt(c) == (place > 0),
            g.ihead(c) == image,
            # a target's kind is its map's type; a head's, its cascade's
            g.clone(c) == ((shape.map_of(volume).type if place else chain.kind) == "clone"),
        ]
        if place > 0:
            facts.append(g.up(c) == nodes[(ci, place - 1)])
        elif image:
            facts.append(g.up(c) == nodes[shape.image_source((ci, 0))])
    for v, c in vols.items():
        own = shape.position(v)
        facts.append(g.haspos(c) == (own is not None))
        if own is not None:
            facts.append(g.pos(c) == nodes[own])
    return facts


def pin(
    spec: Spec,
    st: State,
    g_: Any,
    tag: str,
    nodes: dict[ShapeNode, Any] | None = None,
    images: bool = True,
    structure: bool = True,
) -> Pinned:
    """`Spec`'s state at grain g as a graph (node constants given, or fresh ones); the ghost
    is what each volume reads, where `images`; the structure, where `structure`."""
    shape = st.shape
    vols = {v: z3.Const(f"V:{v}", Vol) for v in shape.volumes}
    if nodes is None:
        nodes = {
            (ci, place): z3.Const(f"N:{ci}.{place}{tag}", Node)
            for ci, chain in enumerate(shape.chains)
            for place in range(len(chain.targets) + 1)
        }
    g = fresh_graph(f"g{tag}")
    facts = structure_facts(g, shape, nodes, vols) if structure else []
    for v, c in vols.items():
        held = select(st.split[v], g_) if v in st.split else z3.BoolVal(False)
        facts += [g.held(c) == held, g.phys(c) == select(st.phys[v], g_)]
        if images:
            facts.append(g.im(c) == spec.image(st, v, g_))
    return Pinned(g, nodes, vols, facts)


def _correspondence(
    pre: Shape, post: Shape, nodes: dict[ShapeNode, Any], head: Any, target: Any, cut: str = ""
) -> dict[ShapeNode, Any]:
    """Which constant each node of the next shape is: a target position is its volume's
    position before (or the new node, for a new target); a head is the head its first
    target already read through — the head of that target's cascade before, if it is the
    same volume's and no target above it there still has a position elsewhere (a split cut
    them apart) — or a new head (a new cascade, or the one a split of `cut` opens above
    what hung below it)."""
    out: dict[ShapeNode, Any] = {}
    still = set(post.active())
    for cj, chain in enumerate(post.chains):
        out[(cj, 0)] = head
        known = [pre.position(t) for t in chain.targets if pre.position(t) is not None]
        if known:
            ci, place = known[0]
            above = pre.chains[ci].targets[: place - 1]
            apart = any(t in still and t not in chain.targets for t in above)
            opened_by_split = cut in above
            if pre.chains[ci].head == chain.head and not apart and not opened_by_split:
                out[(cj, 0)] = nodes[(ci, 0)]
        for place, t in enumerate(chain.targets, start=1):
            own = pre.position(t)
            out[(cj, place)] = nodes[own] if own is not None else target
    return out


def _agree(after: Graph, post_pin: Pinned, u: Universe, structure: bool) -> Any:
    """The graph's next state is `Spec`'s: the same bits and grains at g and, after a
    structural step, the same structure on every node `Spec` still has (and nothing reads
    any other node)."""
    p = post_pin.graph
    parts = []
    for c in post_pin.vols.values():  # a volume's bit is read only while it has a position
        parts += [
            z3.Implies(p.haspos(c), after.held(c) == p.held(c)),
            after.phys(c) == p.phys(c),
        ]
    if not structure:  # a copy or a write changes no structure, in `Spec` or in the graph
        return z3.And(parts)
    for c in post_pin.vols.values():
        parts += [
            after.haspos(c) == p.haspos(c),
            z3.Implies(p.haspos(c), after.pos(c) == p.pos(c)),
        ]
    for c in post_pin.nodes.values():
        parts += [
            after.vol(c) == p.vol(c),
            after.tgt(c) == p.tgt(c),
            after.ihead(c) == p.ihead(c),
            after.clone(c) == p.clone(c),
            z3.Implies(z3.Or(p.tgt(c), p.ihead(c)), after.up(c) == p.up(c)),
        ]
    kept = {c.get_id() for c in post_pin.nodes.values()}
    gone = [c for c in u.nodes or () if c.get_id() not in kept]
    readers = [r for r in post_pin.nodes.values()]  # a node of `Spec`'s shape reads what it says
    for c in gone:  # gone from the shape: in the graph, no target and nothing reads it
        parts.append(z3.Not(after.tgt(c)))
        parts += [z3.Implies(z3.Or(p.tgt(r), p.ihead(r)), p.up(r) != c) for r in readers]
        parts += [
            z3.Not(z3.And(z3.Or(after.tgt(r), after.ihead(r)), after.up(r) == c)) for r in gone
        ]
    return z3.And(parts)


def _untouched(pre: State, post: State, other: Any, grain: Any) -> Any:
    """At any grain other than the step's, nothing changed."""
    same = [select(post.phys[v], other) == select(pre.phys[v], other) for v in pre.phys]
    same += [select(post.split[t], other) == select(pre.split[t], other) for t in pre.split]
    return z3.Implies(other != grain, z3.And(same))


def materialize(g: Graph, u: Universe, tag: str) -> tuple[Graph, list[Any]]:
    """The graph with fresh functions equal to `g`'s on the universe: a start built on a
    start's functions nests, and a group of four would build terms hundreds of times over."""
    fresh = fresh_graph(f"g{tag}")
    facts = [
        getattr(fresh, part)(c) == getattr(g, part)(c)
        for parts, elems in ((NODE_PARTS, u.nodes), (VOL_PARTS, u.vols))
        for part in parts
        for c in elems or ()
    ]
    return fresh, facts


def _starts(
    spec: Spec,
    pre: State,
    members: list[str],
    g: Graph,
    nodes: dict[ShapeNode, Any],
    vols: dict[str, Any],
    universe: Universe,
    heads: list[Any],
    targets: list[Any],
) -> tuple[Any, Graph, dict[ShapeNode, Any], State, list[Any]]:
    """The graph's starts for `Spec`'s: each member, in `Spec`'s group order, inserted where
    `Spec` attaches it (a new cascade opened first where it opens one). The premises, the
    graph after, which constant each node of `Spec`'s last shape is, that state, and the
    definitions of the functions the graph was given along the way."""
    premises, current, at, definitions = [], pre, dict(nodes), []
    for i, target in enumerate(spec.group_order(pre.shape, members)):
        if i:  # the graph so far as functions of its own, defined on the universe
            g, defined = materialize(g, universe, f"#{i}")
            definitions += defined
        info = current.shape.map_of(target)
        kind = spec.cascade_kind(info.type)
        point = spec.attach_point(current.shape, info.source, kind)
        clone = z3.BoolVal(info.type == "clone")  # per type: the cascade's kind is the map's
        if point is None:
            g = opened(g, vols[info.source], heads[i], clone)
            a = heads[i]
        else:
            a = at[point]
        premises += [
            attaches(g, a, vols[info.source], vols[target], clone),
            fresh_node(g, targets[i], universe),
            targets[i] != a,
        ]
        g = inserted(g, a, vols[target], targets[i], clone)
        following = spec.insert(current, target)
        at = _correspondence(current.shape, following.shape, at, heads[i], targets[i])
        current = following
    return z3.And(premises), g, at, current, definitions


def link_step(
    spec: Spec, sit: Situation, step: Step, live: set[str] | None = None
) -> tuple[str, str]:
    """Is this step of `Spec` at this situation a step of the graph model? (proved, failed
    with why, or unknown). Where `live` is given and lacks the step's kind, the kind is
    added if the step's premises (`Spec`'s precondition among them) can hold at all."""
    g_ = z3.Const("g!link", Grain)
    pre = pre_state(sit, step, "L")
    payload = z3.Const("d!link", Data) if step.whole else z3.Const("p!link", Patch)
    post = spec_rules(spec, pre, step, g_, payload)
    pinned = shared("graph-pin", pre, lambda: pin(spec, pre, g_, ""))
    g = pinned.graph
    vols = pinned.vols
    joining = len(step.members) or 1
    heads = [z3.Const(f"N:new-head-{i}", Node) for i in range(joining)]
    targets = [z3.Const(f"N:new-target-{i}", Node) for i in range(joining)]
    nodes = dict(pinned.nodes)
    news = [*heads, *targets]
    universe = Universe([*nodes.values(), *news], list(vols.values()))
    facts = [
        *pinned.facts,
        z3.Distinct(*universe.nodes),
        z3.Distinct(*vols.values()),
        precondition(spec, pre, step, [g_]),
    ]
    # the new nodes are unused before
    facts += [z3.And(z3.Not(g.tgt(c)), z3.Not(g.ihead(c))) for c in news]
    facts += [
        z3.Not(z3.And(z3.Or(g.tgt(c), g.ihead(c)), g.up(c) == e))
        for c in nodes.values()
        for e in news
    ]
    if step.data:
        written = vols[step.target] if step.kind == "write" else None
        cp = z3.Function("cp!link", Node, z3.BoolSort())
        for (ci, place), c in nodes.items():
            v = pre.shape.chains[ci].volume_at(place)
            now = select(post.split[v], g_) if place > 0 else z3.BoolVal(False)
            was = select(pre.split[v], g_) if place > 0 else z3.BoolVal(True)
            moved = (
                z3.Not(was)
                if (step.kind == "write" and v == step.target)
                else z3.And(z3.Not(was), now)
            )
            facts.append(cp(c) == (moved if place > 0 else z3.BoolVal(False)))
        facts += [cp(c) == False for c in news]  # noqa: E712
        value = None if written is None else written_value(g, written, payload, step.whole)
        after = copied(g, cp, written, value)
        premises = copy_rules(g, cp, universe, written)
        post_pin = pin(spec, post, g_, "'", pinned.nodes, images=False, structure=False)
        claim = z3.And(premises, _agree(after, post_pin, universe, False))
        other = z3.Const("h!link", Grain)
        claim = z3.And(claim, _untouched(pre, post, other, g_))
    else:
        t = vols[step.target]
        if step.kind in IDENTITY:  # nothing the graph has changes
            premises, after = z3.BoolVal(True), g
        elif step.kind == "leave":
            premises = may_leave(g, t, z3.BoolVal(step.complete), universe)
            after = left(g, t)
        elif step.kind == "split":
            premises = z3.And(may_split(g, t), fresh_node(g, heads[0], universe))
            after = split_off(g, t, heads[0])
        elif step.kind == "force":
            gone = z3.Function("gone!link", Node, z3.BoolSort())
            going = {pre.shape.position(v) for v in [step.target, *subtree(pre.shape, step.target)]}
            facts += [gone(c) == (n in going) for n, c in nodes.items()]
            facts += [gone(c) == False for c in news]  # noqa: E712
            premises = z3.And(
                dependents_closed(g, t, gone, universe),
                z3.Implies(step.complete, g.held(t)),
            )
            after = forced(g, gone)
        else:  # a start, or a group start: its members inserted one by one, in `Spec`'s order
            members = list(step.members) or [step.target]
            premises, after, mapping, last, defined = _starts(
                spec, pre, members, g, nodes, vols, universe, heads, targets
            )
            facts += defined
            if last.shape != post.shape:
                return (
                    "failed",
                    f"{step.label()} at {sit.family}: not its members started one by one",
                )
        if step.kind not in ("start", "group"):
            cut = step.target if step.kind == "split" else ""
            mapping = _correspondence(pre.shape, post.shape, nodes, heads[0], targets[0], cut)
        post_pin = pin(spec, post, g_, "'", mapping, images=False)
        claim = z3.And(premises, _agree(after, post_pin, universe, True))
    solver = z3.Solver()
    solver.set("timeout", TIMEOUT_MS)
    solver.add(*facts, *post_pin.facts)
    if live is not None and step.kind not in live and solver.check() == z3.sat:
        live.add(step.kind)  # a step whose premises never hold would link vacuously
    solver.add(z3.Not(claim))
    verdict = solver.check()
    if verdict == z3.unsat:
        return "proved", ""
    if verdict == z3.sat:
        return "failed", f"{step.label()} at {sit.family}: {str(solver.model())[:300]}"
    return "unknown", f"{step.label()} at {sit.family}: {solver.reason_unknown()}"


def linked_steps(spec: Spec, sit: Situation) -> Iterable[Step]:
    """The steps of a situation the link covers: all but incremental (re)starts, alone or in
    a group (they keep the grains unchanged since the last start: a record of change the
    graph does not have)."""
    maps = dict(sit.shape.maps)
    steps = [
        step
        for step in enabled(spec, sit.shape, sit.lost)
        if step.kind in LINKED
        and not (step.incremental or any(maps[t].incremental for t in step.members))
    ]
    if sit.family.startswith("group-"):  # there, the largest group starts (the rest: elsewhere)
        largest = max((len(x.members) for x in steps if x.kind == "group"), default=0)
        steps = [x for x in steps if x.kind == "group" and len(x.members) == largest]
    yield from steps


def link_situations(spec: Spec, closed: bool = False) -> list[Situation]:
    """Where `prove` checks the link, whatever its settings, in two parts run side by side:
    the families up to `LINK_LENGTH`, `LINK_SAMPLES` shapes of four volumes and group starts
    of up to four maps from the shortest families (where a wrong rule shows first), or,
    `closed`, every shape two volumes reach (a set closed under every step; no group
    starts). A step costs 10-20 ms of term building (a group start about 0.1 s), so the link
    at every covered shape is the benchmark's (`benchmarks/graph_link.py`)."""
    if closed:
        return list(reachable_shapes(spec, 2))
    return [
        *(x for k in range(1, LINK_LENGTH + 1) for x in chain_families(spec, k)),
        *sampled(spec, 4, LINK_SAMPLES, depth=14),
        *group_situations(chain_families(spec, 1), GROUP_SMALL),
    ]


def check_graph_refinement(
    spec: Spec,
    situations: Iterable[Situation],
    name: str = "unbounded-graph-refines-spec",
    kinds: Iterable[str] = LINKED,
) -> Outcome:
    """The link at every given situation and step, stopping at the first that fails; a kind
    of step the situations never offer, or whose premises never hold (a leave `Spec` never
    allows), links nothing, and fails the link as vacuous."""
    began = time.perf_counter()
    count, seen, live = 0, set(), set()
    for sit in situations:
        with situation_terms():  # one situation's pre-states are pinned once
            steps = list(linked_steps(spec, sit))
            results = [link_step(spec, sit, step, live) for step in steps]
        for step, (verdict, detail) in zip(steps, results, strict=True):
            count += 1
            seen.add(step.kind)
            if verdict != "proved":
                return Outcome(
                    name, verdict, time.perf_counter() - began, count, Failure(None, None, detail)
                )
    missing = [kind for kind in kinds if kind not in seen]
    dead = [kind for kind in kinds if kind in seen and kind not in live]
    if missing or dead:
        detail = "vacuous: " + "; ".join(
            [f"no {', '.join(missing)} step at the shapes linked"] * bool(missing)
            + [f"no {', '.join(dead)} step whose premises hold"] * bool(dead)
        )
        return Outcome(
            name, "failed", time.perf_counter() - began, count, Failure(None, None, detail)
        )
    return Outcome(name, "proved", time.perf_counter() - began, count)
