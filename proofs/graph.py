"""Any number of cascades in any topology: the parametric model (issue 13, item 1).

The other unbounded models fix a topology (one cascade, a forest of three, one restored
cascade with frozen heads) and make its lengths symbolic. Here the topology itself is symbolic:
nodes and volumes are uninterpreted sorts, and the structure is a handful of functions —

    vol(n)    the volume at node n          tgt(n)    n is a target position
    up(n)     the node a target (or an image head) reads through
    ihead(n)  n is a head presenting its volume's image (a cascade of cascades)
    pos(v)    v's target position, where haspos(v)
    clone(n)  a clone (a target's map type; a head's cascade kind)
    rank(n)   a natural number that falls along `up` (so reads end: well-foundedness)

— so one claim speaks of every system of cascades at once: any number of volumes, of
cascades per source and per kind, cascades linked from any positions, frozen heads (a head
whose volume has become a target again: a restore) of either kind, restores of restores.
A node that is neither a target nor an image head is a physical head: it presents its
volume's own grain (frozen or not). One grain is modelled; every volume has its grain
(`phys`), its split bit (`held`), and a ghost `im`: what it presents — for a volume with an
image, that image; for one without a position, its own grain.

The local invariant, for every target position n of a volume v:

    held(v)  =>  phys(v) = im(v)          not held(v)  =>  im(v) = P(up(n))

where P(m) is what m presents (im of its volume at a target position or an image head, the
volume's own grain at a physical head); and a volume without a position presents its grain.
The read lemma turns that into "every volume reads im" by induction on rank.

The rules are the specification's, written for every node at once: a host write copies into
every target lacking the grain whose upstream's presentation changes — the written volume's
positions, and the physical heads of every volume whose own grain changes, so a copy into a
restored volume first preserves its frozen heads' readers, and so on, as far as it goes (the
set of copies is any set closed under that rule: the least is the specification's, and any
copy a rule adds brings what the target already reads); background copy and cleaning are
copies of the same kind; a start inserts a node after one presenting its source's image; a
position leaves once no reader lacking the grain would read something else.
`proofs/graph_refinement.py` checks that these are `Spec`'s rules at every covered shape.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import z3

from model.logic import MERGE, Data

Node = z3.DeclareSort("Node")
Vol = z3.DeclareSort("Vol")
Fn = Callable[..., Any]


@dataclass(frozen=True)
class Universe:
    """Where a claim's "for every node / volume" ranges: every one (a quantifier), or the
    nodes and volumes of one concrete shape (a conjunction: `proofs/graph_refinement.py`)."""

    nodes: Sequence[Any] | None = None
    vols: Sequence[Any] | None = None

    def every_node(self, body: Fn) -> Any:
        """body(n) for every node."""
        return _every(self.nodes, Node, "n", body)

    def every_vol(self, body: Fn) -> Any:
        """body(v) for every volume."""
        return _every(self.vols, Vol, "v", body)


_FRESH = itertools.count()  # a fresh bound variable per quantifier


def _every(elems: Sequence[Any] | None, sort: Any, tag: str, body: Fn) -> Any:
    if elems is not None:
        return z3.And([body(e) for e in elems])
    x = z3.Const(f"{tag}!{next(_FRESH)}", sort)
    return z3.ForAll([x], body(x))


ALL = Universe()


@dataclass(frozen=True)
class Graph:
    """One grain of a system of cascades: the structure and the data, as functions."""

    vol: Fn
    tgt: Fn
    ihead: Fn
    up: Fn
    pos: Fn
    haspos: Fn
    rank: Fn
    clone: Fn
    held: Fn
    phys: Fn
    im: Fn


NODE_PARTS = ("vol", "tgt", "ihead", "up", "rank", "clone")  # the parts taking a node
VOL_PARTS = ("pos", "haspos", "held", "phys", "im")  # the parts taking a volume


def fresh_graph(tag: str) -> Graph:
    """An arbitrary graph: every part an uninterpreted function."""

    def f(name: str, *sorts: Any) -> Fn:
        return z3.Function(f"{name}{tag}", *sorts)

    return Graph(
        vol=f("vol", Node, Vol),
        tgt=f("tgt", Node, z3.BoolSort()),
        ihead=f("ihead", Node, z3.BoolSort()),
        up=f("up", Node, Node),
        pos=f("pos", Vol, Node),
        haspos=f("haspos", Vol, z3.BoolSort()),
        rank=f("rank", Node, z3.IntSort()),
        clone=f("clone", Node, z3.BoolSort()),
        held=f("held", Vol, z3.BoolSort()),
        phys=f("phys", Vol, Data),
        im=f("im", Vol, Data),
    )


# -- what a node presents, and the invariant ------------------------------------------------
def presents(g: Graph, m: Any) -> Any:
    """P(m): a target position or an image head presents its volume's image; a physical
    head (frozen or not) its volume's own grain."""
    return z3.If(z3.Or(g.tgt(m), g.ihead(m)), g.im(g.vol(m)), g.phys(g.vol(m)))


def well_formed(g: Graph, u: Universe = ALL) -> Any:
    """The structure is a system of cascades: a volume has at most one target position, an
    image head reads its volume's position, reads end (rank falls along `up`), and a target
    reads a node of its own cascade's kind (type separation, for every node)."""
    return z3.And(
        u.every_node(
            lambda n: z3.And(
                z3.Implies(g.tgt(n), z3.And(g.haspos(g.vol(n)), g.pos(g.vol(n)) == n)),
                z3.Not(z3.And(g.tgt(n), g.ihead(n))),
                z3.Implies(g.ihead(n), z3.And(g.haspos(g.vol(n)), g.up(n) == g.pos(g.vol(n)))),
                z3.Implies(z3.Or(g.tgt(n), g.ihead(n)), g.rank(g.up(n)) < g.rank(n)),
                g.rank(n) >= 0,
            )
        ),
        u.every_vol(
            lambda v: z3.Implies(g.haspos(v), z3.And(g.tgt(g.pos(v)), g.vol(g.pos(v)) == v))
        ),
    )


def type_separated(g: Graph, u: Universe = ALL) -> Any:
    """Per-type cascades: every target reads through a node of its own cascade's kind (a
    copy into it comes from its own cascade, or from beyond its head)."""
    return u.every_node(lambda n: z3.Implies(g.tgt(n), g.clone(n) == g.clone(g.up(n))))


def local(g: Graph, n: Any) -> Any:
    """Local(n): a target holding the grain holds its image; one lacking it has the image
    its upstream presents."""
    v = g.vol(n)
    return z3.Implies(
        g.tgt(n),
        z3.If(g.held(v), g.phys(v) == g.im(v), g.im(v) == presents(g, g.up(n))),
    )


def inv(g: Graph, u: Universe = ALL) -> Any:
    """The invariant: Local at every node, and a volume without a position presents (and
    reads) its own grain."""
    return z3.And(
        u.every_node(lambda n: local(g, n)),
        u.every_vol(lambda v: z3.Implies(z3.Not(g.haspos(v)), g.im(v) == g.phys(v))),
    )


# -- copies: writes, background copy, cleaning -------------------------------------------------
def _moved(g: Graph, cp: Fn, v: Any) -> Any:
    return z3.And(g.haspos(v), cp(g.pos(v)))


def disturbed(g: Graph, cp: Fn, m: Any, written: Any = None, wrong: str = "") -> Any:
    """Does what m presents change? At a target position or an image head, when its volume
    is written (its image changes); at a physical head, when its volume's own grain changes:
    written, or a copy into it bringing another value (a restore's preservation copies)."""
    vol = g.vol(m)
    own = z3.BoolVal(False) if written is None else vol == written
    copied = z3.And(_moved(g, cp, vol), presents(g, g.up(g.pos(vol))) != g.phys(vol))
    if wrong == "no-preservation":
        copied = z3.BoolVal(False)
    return z3.If(z3.Or(g.tgt(m), g.ihead(m)), own, z3.Or(own, copied))


def copy_rules(g: Graph, cp: Fn, u: Universe, written: Any = None, wrong: str = "") -> Any:
    """Which copies a step makes: only into targets lacking the grain, and into every target
    lacking it whose upstream's presentation the step disturbs."""
    return u.every_node(
        lambda r: z3.And(
            z3.Implies(cp(r), z3.And(g.tgt(r), z3.Not(g.held(g.vol(r))))),
            z3.Implies(
                z3.And(
                    g.tgt(r),
                    z3.Not(g.held(g.vol(r))),
                    disturbed(g, cp, g.up(r), written, wrong),
                ),
                cp(r),
            ),
        )
    )


def copied(g: Graph, cp: Fn, written: Any = None, value: Any = None) -> Graph:
    """The copies land (each brings what its target reads: its upstream's presentation),
    then the written volume takes its value and holds its grain."""

    def phys(v: Any) -> Any:
        moved = z3.If(_moved(g, cp, v), presents(g, g.up(g.pos(v))), g.phys(v))
        return moved if written is None else z3.If(v == written, value, moved)

    def held(v: Any) -> Any:
        moved = z3.Or(g.held(v), _moved(g, cp, v))
        return (
            moved if written is None else z3.If(v == written, z3.Or(g.held(v), g.haspos(v)), moved)
        )

    def im(v: Any) -> Any:
        return g.im(v) if written is None else z3.If(v == written, value, g.im(v))

    return replace(g, phys=phys, held=held, im=im)


def written_value(g: Graph, w: Any, data: Any, whole: bool) -> Any:
    """Write rule: a whole grain replaces the image; a partial one is merged over it (the
    fill brings the image first)."""
    return data if whole else MERGE(g.im(w), data)


# -- structure: a start, a new cascade, a position leaving ---------------------------------
def fresh_node(g: Graph, n: Any, u: Universe = ALL) -> Any:
    """n is unused: not a target, not an image head, and nothing reads through it."""
    return z3.And(
        z3.Not(g.tgt(n)),
        z3.Not(g.ihead(n)),
        u.every_node(lambda r: z3.Not(z3.And(z3.Or(g.tgt(r), g.ihead(r)), g.up(r) == n))),
    )


def attaches(g: Graph, a: Any, s: Any, t: Any, kind: Any, wrong: str = "") -> Any:
    """Insertion rule: a new target t of a map from s (of type `kind`) goes directly after a
    node of s presenting s's image — its target position, an image head of it, or a physical
    head of s when s has no position (not a frozen head) — in a cascade of the map's type."""
    presents_image = z3.Or(g.tgt(a), g.ihead(a), z3.Not(g.haspos(s)))
    if wrong == "attach-frozen":
        presents_image = z3.BoolVal(True)
    same_kind = z3.BoolVal(True) if wrong == "attach-any-kind" else g.clone(a) == kind
    return z3.And(g.vol(a) == s, s != t, z3.Not(g.haspos(t)), presents_image, same_kind)


def inserted(g: Graph, a: Any, t: Any, nt: Any, kind: Any) -> Graph:
    """The new position nt of t after a: the targets that read a now read nt (image heads
    of a's volume keep reading a); t holds nothing and takes what a presents."""
    return replace(
        g,
        vol=lambda n: z3.If(n == nt, t, g.vol(n)),
        tgt=lambda n: z3.Or(g.tgt(n), n == nt),
        ihead=lambda n: z3.And(g.ihead(n), n != nt),
        up=lambda n: z3.If(n == nt, a, z3.If(z3.And(g.tgt(n), g.up(n) == a), nt, g.up(n))),
        pos=lambda v: z3.If(v == t, nt, g.pos(v)),
        haspos=lambda v: z3.Or(g.haspos(v), v == t),
        rank=lambda n: z3.If(
            n == nt,
            g.rank(a) + 1,
            z3.If(g.rank(n) > g.rank(a), g.rank(n) + 2, g.rank(n)),
        ),
        clone=lambda n: z3.If(n == nt, kind, g.clone(n)),
        held=lambda v: z3.If(v == t, False, g.held(v)),
        im=lambda v: z3.If(v == t, presents(g, a), g.im(v)),
    )


def opened(g: Graph, s: Any, h: Any, kind: Any) -> Graph:
    """A new cascade of s: the unused node h becomes its head — presenting s's image if s
    is a target (a cascade of cascades), else s's own grain."""
    return replace(
        g,
        vol=lambda n: z3.If(n == h, s, g.vol(n)),
        ihead=lambda n: z3.If(n == h, g.haspos(s), g.ihead(n)),
        up=lambda n: z3.If(n == h, g.pos(s), g.up(n)),
        rank=lambda n: z3.If(n == h, g.rank(g.pos(s)) + 1, g.rank(n)),
        clone=lambda n: z3.If(n == h, kind, g.clone(n)),
    )


def may_leave(g: Graph, t: Any, complete: Any, u: Universe = ALL, wrong: str = "") -> Any:
    """Leave precondition: t has a position p; no target lacking the grain would read
    something else once p is gone — the next target reads p's upstream instead (a change
    only where t holds the grain), the first target of a cascade headed by t's image reads
    t's own grain instead (a change only where t lacks it); a completed copy holds it."""
    p = g.pos(t)
    same = presents(g, g.up(p)) == g.phys(t)
    nexts = u.every_node(
        lambda r: z3.Implies(
            z3.And(g.tgt(r), g.up(r) == p, z3.Not(g.held(g.vol(r)))),
            z3.Or(z3.Not(g.held(t)), same),
        )
    )
    linked = u.every_node(
        lambda r: z3.Implies(
            z3.And(g.tgt(r), g.ihead(g.up(r)), g.vol(g.up(r)) == t, z3.Not(g.held(g.vol(r)))),
            z3.Or(g.held(t), same),
        )
    )
    if wrong == "leave-ignores-linked":
        linked = z3.BoolVal(True)
    return z3.And(g.haspos(t), z3.Implies(complete, g.held(t)), nexts, linked)


def left(g: Graph, t: Any) -> Graph:
    """t's position p goes: its next target reads p's upstream; the heads presenting t's
    image present t's own grain; p is left unused; t presents its own grain (its image,
    if it completed)."""
    p = g.pos(t)
    return replace(
        g,
        tgt=lambda n: z3.And(g.tgt(n), n != p),
        ihead=lambda n: z3.And(g.ihead(n), g.vol(n) != t),
        up=lambda n: z3.If(z3.And(g.tgt(n), g.up(n) == p), g.up(p), g.up(n)),
        haspos=lambda v: z3.And(g.haspos(v), v != t),
        im=lambda v: z3.If(v == t, g.phys(t), g.im(v)),
    )


def may_split(g: Graph, t: Any) -> Any:
    """Split precondition, at this grain: t has a position and holds the grain (progress is
    100 %)."""
    return z3.And(g.haspos(t), g.held(t))


def split_off(g: Graph, t: Any, h: Any, wrong: str = "") -> Graph:
    """Split rule: t's position p goes; the unused node h becomes a physical head of t, of
    p's cascade's kind, and the targets that read p read h — what hung below t hangs from
    t's own grains; the heads presenting t's image present its grains too."""
    p = g.pos(t)
    below = g.up(p) if wrong == "split-relinks-above" else h
    return replace(
        g,
        vol=lambda n: z3.If(n == h, t, g.vol(n)),
        tgt=lambda n: z3.And(g.tgt(n), n != p),
        ihead=lambda n: z3.And(g.ihead(n), g.vol(n) != t, n != h),
        up=lambda n: z3.If(z3.And(g.tgt(n), g.up(n) == p), below, g.up(n)),
        haspos=lambda v: z3.And(g.haspos(v), v != t),
        rank=lambda n: z3.If(n == h, g.rank(p), g.rank(n)),
        clone=lambda n: z3.If(n == h, g.clone(p), g.clone(n)),
        im=lambda v: z3.If(v == t, g.phys(t), g.im(v)),
    )


def dependents_closed(g: Graph, t: Any, gone: Fn, u: Universe = ALL, wrong: str = "") -> Any:
    """Forced-stop precondition: the positions that go are t's and every target reading
    through one that goes — the next one, and the first target of a cascade headed by a
    going volume's image — and nothing else."""

    def feeds(r: Any) -> Any:
        up = g.up(r)
        through_image = z3.And(g.ihead(up), gone(g.pos(g.vol(up))))
        if wrong == "force-spares-linked":
            through_image = z3.BoolVal(False)
        return z3.And(g.tgt(r), z3.Or(gone(up), through_image))

    return z3.And(
        g.haspos(t),
        gone(g.pos(t)),
        u.every_node(
            lambda n: z3.And(z3.Implies(gone(n), g.tgt(n)), z3.Implies(feeds(n), gone(n)))
        ),
    )


def forced(g: Graph, gone: Fn) -> Graph:
    """Forced-stop rule: the going positions leave at once, without cleaning; heads that
    presented a going volume's image present its grains; a going volume presents its own
    grains (its image is lost — kept, if it was complete: then it holds the grain)."""

    def going(v: Any) -> Any:
        return z3.And(g.haspos(v), gone(g.pos(v)))

    return replace(
        g,
        tgt=lambda n: z3.And(g.tgt(n), z3.Not(gone(n))),
        ihead=lambda n: z3.And(g.ihead(n), z3.Not(going(g.vol(n)))),
        haspos=lambda v: z3.And(g.haspos(v), z3.Not(gone(g.pos(v)))),
        im=lambda v: z3.If(going(v), g.phys(v), g.im(v)),
    )


# -- the read lemma ----------------------------------------------------------------------------
def read_step(g: Graph, u: Universe = ALL, wrong: str = "") -> tuple[Any, Any, Any]:
    """Induction step of "every node reads what it presents", on rank: with `read` defined
    by the read rule (a target's own grain if held, else its upstream's; an image head reads
    its volume's position; a physical head its volume's grain), if every node of lower rank
    reads what it presents, so does n. Returns (premises, conclusion, n)."""
    read = z3.Function("read", Node, Data)
    n = z3.Const("n", Node)

    def rule(x: Any) -> Any:
        through = g.phys(g.vol(x)) if wrong == "image-head-physical" else read(g.up(x))
        return z3.If(
            g.tgt(x),
            z3.If(g.held(g.vol(x)), g.phys(g.vol(x)), read(g.up(x))),
            z3.If(g.ihead(x), through, g.phys(g.vol(x))),
        )

    below = u.every_node(lambda m: z3.Implies(g.rank(m) < g.rank(n), read(m) == presents(g, m)))
    pre = z3.And(well_formed(g, u), inv(g, u), u.every_node(lambda m: read(m) == rule(m)), below)
    return pre, read(n) == presents(g, n), n
