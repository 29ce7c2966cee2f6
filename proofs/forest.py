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

and `unbounded-forest-refines-spec` (`proofs/refinement.py`) ties every operation to `Spec`'s
own rules on these shapes for every combination of lengths up to a bound. Each obligation has
a control: the same operation with one wrong rule, for which it must fail.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import z3

from model.logic import MERGE, Data, Patch

from .unbounded import Cascade, fresh
from .verdicts import Failure, Outcome

TIMEOUT_MS = 30_000


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


# -- obligations -----------------------------------------------------------------------------


def _claims(wrong: str) -> dict[str, list[Any]]:
    """Every forest claim; `wrong` names the rule a control replaces."""
    f = fresh_forest("")
    m = z3.Int("m")
    d = z3.Const("d", Data)
    patch = z3.Const("patch", Patch)
    ok = inv(f)

    def keeps(after: Forest, *pre: Any) -> Any:
        return z3.Implies(z3.And(ok, *pre), inv(after))

    def whole_and_partial(write: Callable[[Any, bool], Forest], *pre: Any) -> list[Any]:
        return [keeps(write(d, True), *pre), keeps(write(patch, False), *pre)]

    def copied(c: Cascade) -> Any:  # control: a clone copies the source's grain
        return source(f) if wrong == "copy" else c.ref[m]

    return {
        "unbounded-forest-writes": [
            *whole_and_partial(lambda x, w: write_source(f, x, wrong, w)),
            *whole_and_partial(lambda x, w: write_a(f, m, x, wrong, w), in_range(f.a, m)),
            *whole_and_partial(
                lambda x, w: replace(f, b=write_target(f.b, m, x, w)), in_range(f.b, m)
            ),
            *whole_and_partial(
                lambda x, w: replace(f, linked=write_target(f.linked, m, x, w)),
                in_range(f.linked, m),
            ),
            *whole_and_partial(lambda x, w: write_linked_head(f, x, w), f.l_own),
        ],
        "unbounded-forest-copies": [
            keeps(replace(f, b=background_copy(f.b, m, copied(f.b))), in_range(f.b, m)),
            keeps(
                replace(f, linked=background_copy(f.linked, m, copied(f.linked))),
                in_range(f.linked, m),
            ),
        ],
        "unbounded-forest-insertions": [
            keeps(replace(f, a=insert(f.a, source(f)), p=f.p + 1)),
            keeps(replace(f, b=insert(f.b, source(f)))),
            keeps(
                replace(
                    f, linked=insert(f.linked, source(f) if wrong == "insert" else linked_top(f))
                )
            ),
        ],
        "unbounded-forest-removals": [
            keeps(remove_a(f, m, wrong == "remove"), in_range(f.a, m), f.a.n >= 2),
            keeps(replace(f, b=remove_target(f.b, m)), in_range(f.b, m)),
            keeps(replace(f, linked=remove_target(f.linked, m)), in_range(f.linked, m)),
        ],
        "unbounded-forest-type-separation": _separation(wrong),
    }


Operation = Callable[[Forest, Any, Any], Forest]
Enabled = Callable[[Forest, Any], Any]


def _operations(wrong: str) -> list[tuple[Operation, Enabled]]:
    """Every operation of the forest, as (forest, m, data) -> forest, with when it is enabled."""
    anywhere: Enabled = lambda f, m: z3.BoolVal(True)  # noqa: E731
    return [
        (lambda f, m, d: write_source(f, d, wrong), anywhere),
        (lambda f, m, d: write_a(f, m, d), lambda f, m: in_range(f.a, m)),
        (lambda f, m, d: replace(f, b=write_target(f.b, m, d)), lambda f, m: in_range(f.b, m)),
        (
            lambda f, m, d: replace(f, linked=write_target(f.linked, m, d)),
            lambda f, m: in_range(f.linked, m),
        ),
        (lambda f, m, d: write_linked_head(f, d), lambda f, m: f.l_own),
        (
            lambda f, m, d: replace(f, b=background_copy(f.b, m, f.b.ref[m])),
            lambda f, m: in_range(f.b, m),
        ),
        (
            lambda f, m, d: replace(f, linked=background_copy(f.linked, m, f.linked.ref[m])),
            lambda f, m: in_range(f.linked, m),
        ),
        (lambda f, m, d: replace(f, a=insert(f.a, source(f)), p=f.p + 1), anywhere),
        (lambda f, m, d: replace(f, b=insert(f.b, source(f))), anywhere),
        (lambda f, m, d: replace(f, linked=insert(f.linked, linked_top(f))), anywhere),
        (lambda f, m, d: remove_a(f, m), lambda f, m: z3.And(in_range(f.a, m), f.a.n >= 2)),
        (
            lambda f, m, d: replace(f, b=remove_target(f.b, m)),
            lambda f, m: in_range(f.b, m),
        ),
        (
            lambda f, m, d: replace(f, linked=remove_target(f.linked, m)),
            lambda f, m: in_range(f.linked, m),
        ),
    ]


def _same(x: Cascade, y: Cascade, head: bool = True) -> Any:
    """Two cascades equal: length, and every array (position 0 too when `head`)."""
    if head:
        return z3.And(x.n == y.n, x.split == y.split, x.phys == y.phys, x.ref == y.ref)
    blank = z3.Const("blank", Data)

    def body(arr: Any, fill: Any) -> Any:  # position 0 overwritten alike: it does not count
        return z3.Store(arr, 0, fill)

    return z3.And(
        x.n == y.n,
        body(x.split, False) == body(y.split, False),
        body(x.phys, blank) == body(y.phys, blank),
        body(x.ref, blank) == body(y.ref, blank),
    )


def _separation(wrong: str) -> list[Any]:
    """Non-interference, for every operation: two forests that agree on S's grain and B agree
    on B afterwards, whatever A and L hold; two that agree on A agree on A afterwards, whatever
    B and L hold."""
    f, g = fresh_forest("1"), fresh_forest("2")
    m = z3.Int("m")
    d = z3.Const("d", Data)
    out = []
    for op, enabled in _operations(wrong):
        both = z3.And(enabled(f, m), enabled(g, m))
        out.append(
            z3.Implies(
                z3.And(both, _same(f.b, g.b, head=False), source(f) == source(g)),
                _same(op(f, m, d).b, op(g, m, d).b, head=False),
            )
        )
        out.append(z3.Implies(z3.And(both, _same(f.a, g.a)), _same(op(f, m, d).a, op(g, m, d).a)))
    return out


CONTROL_OF = {
    "unbounded-forest-writes": "linked",
    "unbounded-forest-copies": "copy",
    "unbounded-forest-insertions": "insert",
    "unbounded-forest-removals": "remove",
    "unbounded-forest-type-separation": "type",
}

WRONG_RULES = {
    "linked": "a write to the target at p does not preserve the first target of the cascade "
    "its image heads",
    "copy": "background copy gives a clone the source's grain, not what the clone reads",
    "insert": "a new first target of the linked cascade takes the source's image",
    "remove": "the target at p leaves without cleaning into the cascade its image heads",
    "type": "a write to the source preserves the clone cascade's first target with the "
    "snapshot cascade's data",
}


def not_vacuous() -> bool:
    """The forest invariant holds of a forest with every cascade long, L hanging mid-way and
    the images distinct (the claims are about something). The forest is given, not searched
    for: checking that it satisfies the invariant is quantifier-free once negated, so Z3
    decides it every time (asking Z3 to find such a model under the quantifiers may come back
    unknown)."""
    d = z3.Consts("w0 w1 w2 w3 w4", Data)
    blank = z3.K(z3.IntSort(), d[0])
    no = z3.K(z3.IntSort(), z3.BoolVal(False))

    def cascade(n: int, held: dict[int, Any], images: list[Any]) -> Cascade:
        split, phys, ref = no, blank, blank
        for i, value in held.items():
            split, phys = z3.Store(split, i, True), z3.Store(phys, i, value)
        for i, value in enumerate(images, start=1):
            ref = z3.Store(ref, i, value)
        return Cascade(z3.IntVal(n), split, phys, ref)

    # S holds w0; A: targets 1 and 2 hold w1 and w2, 3 and 4 read w2; B: target 1 holds w3, 2
    # reads it; L hangs from A's target 2: its target 1 reads w2, target 2 holds w4
    a = cascade(4, {1: d[1], 2: d[2]}, [d[1], d[2], d[2], d[2]])
    a = replace(a, phys=z3.Store(a.phys, 0, d[0]))
    witness = Forest(
        a,
        cascade(2, {1: d[3]}, [d[3], d[3]]),
        cascade(2, {2: d[4]}, [d[2], d[4]]),
        z3.IntVal(2),
        z3.BoolVal(False),
    )
    solver = z3.Solver()
    solver.set("timeout", TIMEOUT_MS)
    solver.add(z3.Distinct(*d), z3.Not(inv(witness)))
    return solver.check() == z3.unsat


def _valid(claim: Any) -> tuple[str, str]:
    solver = z3.Solver()
    solver.set("timeout", TIMEOUT_MS)
    solver.add(z3.Not(claim))
    verdict = solver.check()
    if verdict == z3.unsat:
        return "proved", ""
    if verdict == z3.sat:
        return "failed", str(solver.model())[:400]
    return "unknown", solver.reason_unknown()


def check_forest(wrong: str = "", only: set[str] | None = None) -> list[Outcome]:
    """Check every forest claim (or, with `wrong`, the claims under that control)."""
    out = []
    for name, parts in _claims(wrong).items():
        if only is not None and name not in only:
            continue
        began = time.perf_counter()
        verdict, detail = "proved", ""
        for index, claim in enumerate(parts):
            verdict, detail = _valid(claim)
            if verdict != "proved":
                detail = f"part {index + 1} of {len(parts)}: {detail}"
                break
        if verdict == "proved" and not not_vacuous():
            verdict, detail = "failed", "vacuous: the forest invariant has no long model"
        out.append(
            Outcome(
                name,
                verdict,
                time.perf_counter() - began,
                len(parts),
                Failure(None, None, detail) if detail else None,
            )
        )
    return out
