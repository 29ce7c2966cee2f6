"""Removing the bound for several cascades: three linked cascades, each of any length.

`proofs/unbounded.py` is one cascade. Here a source S heads a snapshot cascade A (targets
1..nA) and a clone cascade B (targets 1..nB) — the per-type pair one source has — and the
target at A's position p (any 1 <= p <= nA) heads, by its image, a clone cascade L (targets
1..nL): a cascade of cascades linked from any position. Every length and p are symbolic Ints;
each cascade's positions are Int-indexed arrays as in `unbounded.py`, and the invariant is the
same local one for each cascade, with what its head presents:

    A and B: S's own grain;  L: A's image at p (or, once that volume left A, its own grain).

Obligations, each for every nA >= 1, nB >= 0, nL >= 0 and p at once:

- `unbounded-forest-writes`: a write to S (copy-on-write into A's and B's first targets), to a
  target of each cascade (into the next target and, at p, into L's first target too: a write
  with two direct readers in two cascades), and to L's head once it presents its own grains;
- `unbounded-forest-copies`: a grain of background copy into a clone of B or L;
- `unbounded-forest-insertions`: a new first target in each cascade (p moves down with A);
- `unbounded-forest-removals`: a target of each cascade leaving after its grain is cleaned into
  the next target and, leaving A at p, into L's first target, whose head then presents the
  leaving volume's own grains;
- `unbounded-forest-type-separation`: after every operation, B (clones) is a function of S's
  grain and B alone, and A (snapshots) of A alone: no copy moves a snapshot position's data
  into a clone or back — type separation for any number of targets;

and `unbounded-forest-refines-spec` (`proofs/forest_refinement.py`) ties every operation to `Spec`'s
own rules on these shapes for every combination of lengths up to a bound. The obligations,
each with a control (the same operation with one wrong rule, for which it must fail), are in
`proofs/forest_claims.py`; this module is the model and its rules.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import z3

from model.logic import MERGE

from .unbounded import Cascade, fresh


@dataclass(frozen=True)
class Forest:
    """One grain of the three cascades."""

    a: Cascade  # snapshots of S; a.phys[0] is S's own grain
    b: Cascade  # clones of S (b.phys[0] is unused: B's head is S too)
    linked: Cascade  # L: clones linked from A's p; phys[0]: its head volume's own grain
    p: Any  # the position of A whose image heads L
    l_own: Any  # L's head presents its volume's own grains (that volume has left A)


def fresh_forest(tag: str) -> Forest:
    """An arbitrary forest."""
    return Forest(
        fresh(f"a{tag}"),
        fresh(f"b{tag}"),
        fresh(f"l{tag}"),
        z3.Int(f"p{tag}"),
        z3.Bool(f"l_own{tag}"),
    )


def source(f: Forest) -> Any:
    """What A's and B's head presents: S's own grain."""
    return f.a.phys[0]


def linked_top(f: Forest) -> Any:
    """What L's head presents: A's image at p, or its volume's own grain once it left A."""
    return z3.If(f.l_own, f.linked.phys[0], f.a.ref[f.p])


def local(c: Cascade, i: Any, top: Any) -> Any:
    """Local(i): a holder holds its image; a non-holder has its upstream's image (the first
    target's upstream is what the head presents)."""
    return z3.Implies(
        z3.And(i >= 1, i <= c.n),
        z3.And(
            z3.Implies(c.split[i], c.phys[i] == c.ref[i]),
            z3.Implies(z3.Not(c.split[i]), c.ref[i] == z3.If(i == 1, top, c.ref[i - 1])),
        ),
    )


def inv(f: Forest) -> Any:
    """Every cascade's positions are locally right, A has a target, p is one of A's."""
    i, k, j = z3.Ints("i k j")
    return z3.And(
        f.a.n >= 1,
        f.b.n >= 0,
        f.linked.n >= 0,
        z3.Or(f.l_own, z3.And(f.p >= 1, f.p <= f.a.n)),
        z3.ForAll([i], local(f.a, i, source(f))),
        z3.ForAll([k], local(f.b, k, source(f))),
        z3.ForAll([j], local(f.linked, j, linked_top(f))),
    )


# -- the rules, one per function ------------------------------------------------------------


def in_range(c: Cascade, i: Any) -> Any:
    """A target position of the cascade."""
    return z3.And(i >= 1, i <= c.n)


def preserve(c: Cascade, i: Any, value: Any, guard: Any = True) -> Cascade:
    """Copy-on-write rule: target i, if it exists and lacks the grain, takes `value` (what it
    reads now) before its upstream changes."""
    moves = z3.And(guard, in_range(c, i), z3.Not(c.split[i]))
    return replace(
        c,
        phys=z3.Store(c.phys, i, z3.If(moves, value, c.phys[i])),
        split=z3.Store(c.split, i, z3.Or(c.split[i], moves)),
    )


def overwrite(c: Cascade, m: Any, data: Any) -> Cascade:
    """A host write lands: target m holds the new data, and its image is it."""
    return replace(
        c,
        split=z3.Store(c.split, m, True),
        phys=z3.Store(c.phys, m, data),
        ref=z3.Store(c.ref, m, data),
    )


def landed(old: Any, data: Any, whole: bool) -> Any:
    """What a write leaves in the grain: the data, or (a partial write) the patch merged over
    the grain's image, which a target lacking the grain is first filled with."""
    return data if whole else MERGE(old, data)


def write_source(f: Forest, data: Any, wrong: str = "", whole: bool = True) -> Forest:
    """Write to S: preserve the first target of each of its cascades, then write."""
    a = preserve(f.a, 1, source(f))
    # the control "type" takes B's copy from A's first target: data across types
    b = preserve(f.b, 1, f.a.ref[1] if wrong == "type" else source(f))
    new = landed(source(f), data, whole)
    return replace(f, a=replace(a, phys=z3.Store(a.phys, 0, new)), b=b)


def write_a(f: Forest, m: Any, data: Any, wrong: str = "", whole: bool = True) -> Forest:
    """Write to A's target m: preserve the next target and, at p, L's first target (both read
    m's image), then write (a partial write over m's image)."""
    a = preserve(f.a, m + 1, f.a.ref[m])
    linked = z3.And(z3.Not(f.l_own), m == f.p)
    lc = f.linked if wrong == "linked" else preserve(f.linked, 1, f.a.ref[m], linked)
    return replace(f, a=overwrite(a, m, landed(f.a.ref[m], data, whole)), linked=lc)


def write_target(c: Cascade, m: Any, data: Any, whole: bool = True) -> Cascade:
    """Write to a target of B or L: preserve the next target, then write."""
    return overwrite(preserve(c, m + 1, c.ref[m]), m, landed(c.ref[m], data, whole))


def write_linked_head(f: Forest, data: Any, whole: bool = True) -> Forest:
    """Write to L's head once it presents its own grains: preserve L's first target."""
    lc = preserve(f.linked, 1, f.linked.phys[0])
    new = landed(f.linked.phys[0], data, whole)
    return replace(f, linked=replace(lc, phys=z3.Store(lc.phys, 0, new)))


def background_copy(c: Cascade, m: Any, value: Any) -> Cascade:
    """Background copy rule: a clone target lacking the grain takes what it reads."""
    return preserve(c, m, value)


def insert(c: Cascade, top: Any) -> Cascade:
    """Insertion rule: a new first target holding nothing, whose image is what the head
    presents; the others move down one."""
    j = z3.Int("j")

    def shift(arr: Any, new: Any) -> Any:
        return z3.Lambda([j], z3.If(j < 1, arr[j], z3.If(j == 1, new, arr[j - 1])))

    return Cascade(
        c.n + 1, shift(c.split, z3.BoolVal(False)), shift(c.phys, c.phys[1]), shift(c.ref, top)
    )


def close(c: Cascade, m: Any) -> Cascade:
    """Position m is gone: the targets after it move up one."""
    j = z3.Int("k")

    def shut(arr: Any) -> Any:
        return z3.Lambda([j], z3.If(j < m, arr[j], arr[j + 1]))

    return Cascade(c.n - 1, shut(c.split), shut(c.phys), shut(c.ref))


def clean_next(c: Cascade, m: Any) -> Cascade:
    """Cleaning rule, next target: it needs the grain iff the leaving one holds it and it
    does not."""
    return preserve(c, m + 1, c.phys[m], c.split[m])


def remove_a(f: Forest, m: Any, wrong: bool = False) -> Forest:
    """A's target m leaves after cleaning: into the next target, and, at p, into L's first
    target iff m does not hold the grain (L's head falls back to m's own stale grain); then L's
    head presents that volume's own grain, and p moves up if m was above it."""
    at_p = z3.And(z3.Not(f.l_own), m == f.p)
    lc = (
        f.linked if wrong else preserve(f.linked, 1, f.a.ref[m], z3.And(at_p, z3.Not(f.a.split[m])))
    )
    lc = replace(lc, phys=z3.Store(lc.phys, 0, z3.If(at_p, f.a.phys[m], lc.phys[0])))
    return Forest(
        close(clean_next(f.a, m), m),
        f.b,
        lc,
        z3.If(m < f.p, f.p - 1, f.p),
        z3.Or(f.l_own, at_p),
    )


def remove_target(c: Cascade, m: Any) -> Cascade:
    """A target of B or L leaves after cleaning into the next target."""
    return close(clean_next(c, m), m)
