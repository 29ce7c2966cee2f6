"""Frozen heads, any number of them: a source heading a clone cascade and m snapshot
cascades, restored from a clone.

S heads a clone cascade C and m >= 1 snapshot cascades A_1..A_m (a second and further
snapshot cascades arise when S, restored before, was copied anew while that restore ran: the
cascade that copy opened turns physical when the restore completes — the `restored-many-heads`
shapes). A restore from a clone of C onto S puts S into C at position r (`proofs/restore.py`)
and freezes *every* head: each presents S's own grain — the storage at C's position r — to
its first target. So whatever overwrites S's storage must first preserve S's old grain for
the first target of every A_j as well as for C's: a write to S, and every copy that moves data
into S while the restore runs (a write to the target just before S, background copy into S,
cleaning into S). At one grain, for every m and every length of every cascade (nC >= 2,
n_j >= 1, 1 <= r <= nC, all symbolic; the A_j as arrays of arrays over j):

    Inv:  the restored invariant of C (`restore.restored_inv`)
          and, for every j in 1..m, A_j's local invariant (`unbounded.inv`) with A_j's head
          presenting C's phys[r]

The claim, `unbounded-restore-heads`: a whole or partial write to S, a whole or partial write
to any other target of C, background copy into any position of C, a new clone of S, removal
of any other target of C after cleaning, a whole or partial write to any target of any A_j and
removal of any target of any A_j after cleaning each keep Inv; the restore's start leaves
every A_j's invariant as it was (its head presents the same storage); and S leaving after
cleaning leaves plain cascades from S, each with `unbounded.inv`.

Control: a copy that moves data into S preserves the grain for C's first target only (a
write to S still preserves it for every head). `proofs/restore_heads_refinement.py` ties the
model to `Spec` up to a bound. A new snapshot of S while it is restored (it heads a new
cascade as an image) is `proofs/restore_copied.py`. Not modelled: frozen heads of clone
cascades beside C, restores of restores.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import z3

from model.logic import Data, Patch

from .forest import landed
from .restore import (
    Restored,
    background,
    fresh_restored,
    insert_after_restored,
    remove_other,
    remove_restored,
    restored_inv,
    start_restore,
    write_other,
    write_restored,
)
from .unbounded import (
    TIMEOUT_MS,
    Cascade,
    check_parts,
    fresh,
    holds_of,
    inv,
    remove_cleaned,
    target_write,
)
from .verdicts import Failure, Outcome


@dataclass(frozen=True)
class Snapshots:
    """m >= 1 snapshot cascades of S at one grain: per cascade j (1..m) its length and its
    positions' arrays (arrays of arrays over j; each head presents S's storage instead of
    phys[j][0])."""

    m: Any
    n: Any
    split: Any
    phys: Any
    ref: Any


@dataclass(frozen=True)
class Heads:
    """One grain of C, restored (S at r), and the snapshot cascades A_1..A_m, whose frozen
    heads present C's phys[r]."""

    c: Restored
    a: Snapshots


def fresh_heads(tag: str) -> Heads:
    """An arbitrary clone cascade, restored, and snapshot cascades."""
    rows = z3.ArraySort(z3.IntSort(), z3.ArraySort(z3.IntSort(), Data))
    bits = z3.ArraySort(z3.IntSort(), z3.ArraySort(z3.IntSort(), z3.BoolSort()))
    a = Snapshots(
        z3.Int(f"am{tag}"),
        z3.Array(f"an{tag}", z3.IntSort(), z3.IntSort()),
        z3.Const(f"asplit{tag}", bits),
        z3.Const(f"aphys{tag}", rows),
        z3.Const(f"aref{tag}", rows),
    )
    return Heads(fresh_restored(f"c{tag}"), a)


def storage(h: Heads) -> Any:
    """S's storage: C's position r, which every frozen head presents."""
    return h.c.phys[h.c.r]


def cascade_of(a: Snapshots, j: Any, head: Any) -> Cascade:
    """A_j as a plain cascade whose head's contents are `head`."""
    return Cascade(a.n[j], a.split[j], z3.Store(a.phys[j], 0, head), a.ref[j])


def snapshots(h: Heads, j: Any, head: Any = None) -> Cascade:
    """A_j as a plain cascade whose head's contents are S's storage (or `head`)."""
    return cascade_of(h.a, j, storage(h) if head is None else head)


def every_cascade(h: Heads, head: Any = None) -> Any:
    """At least one snapshot cascade, and each has the local invariant under S's storage (or
    `head`)."""
    j = z3.Int("hj")
    each = z3.Implies(z3.And(j >= 1, j <= h.a.m), inv(snapshots(h, j, head)))
    return z3.And(h.a.m >= 1, z3.ForAll([j], each))


def heads_inv(h: Heads) -> Any:
    """C's restored invariant and every A_j's local invariant under S's storage."""
    return z3.And(restored_inv(h.c), every_cascade(h))


def preserve(a: Snapshots, grain: Any, when: Any) -> Snapshots:
    """Preservation rule for the frozen heads' readers: where S's storage is overwritten, the
    first target of every A_j, if it lacks the grain, first takes S's old grain (it read it
    through its head); its bit is set."""
    j = z3.Int("pj")
    take = z3.And(when, z3.Not(a.split[j][1]))
    phys = z3.Lambda([j], z3.Store(a.phys[j], 1, z3.If(take, grain, a.phys[j][1])))
    split = z3.Lambda([j], z3.Store(a.split[j], 1, z3.Or(a.split[j][1], when)))
    return Snapshots(a.m, a.n, split, phys, a.ref)


# -- operations (each one rule; `wrong` selects the control's version) ------------------------


def write_s(h: Heads, data: Any, whole: bool = True) -> Heads:
    """Write to S: every frozen head's readers keep S's old grain, then C's write rule."""
    a = preserve(h.a, storage(h), z3.BoolVal(True))
    return Heads(write_restored(h.c, data, whole=whole), a)


def in_c(h: Heads, step: Any, wrong: bool = False) -> Heads:
    """An operation of C: where one of its copies moved data into S (C's own preservation
    made), the first target of every A_j keeps S's old grain too."""
    c = step(h.c)
    if wrong:  # control: only C's frozen head is preserved for
        return Heads(c, h.a)
    return Heads(c, preserve(h.a, storage(h), c.moved))


def in_a(h: Heads, j: Any, step: Any) -> Heads:
    """An operation of A_j alone (a write to or removal of one of its targets)."""
    a, done = h.a, step(snapshots(h, j))
    put = Snapshots(
        a.m,
        z3.Store(a.n, j, done.n),
        z3.Store(a.split, j, done.split),
        z3.Store(a.phys, j, done.phys),
        z3.Store(a.ref, j, done.ref),
    )
    return Heads(h.c, put)


# -- obligations ------------------------------------------------------------------------------


def _claims(wrong: str) -> dict[str, list[Any]]:
    """Every claim about the cascades; `wrong` names the control's rule."""
    h = fresh_heads("")
    m, k, j = z3.Ints("hm hk hj2")
    d = z3.Const("hd", Data)
    patch = z3.Const("hpatch", Patch)
    ok = heads_inv(h)
    c, a = h.c, snapshots(h, j)
    other = z3.And(m >= 1, m <= c.n, m != c.r)
    in_a_range = z3.And(j >= 1, j <= h.a.m, m >= 1, m <= a.n)
    bad = wrong == "copy"

    def keeps(post: Heads, *pre: Any) -> Any:
        return z3.Implies(z3.And(ok, *pre), heads_inv(post))

    plain = fresh("_hs")
    r, ghost = z3.Int("hr"), z3.Int("hfirst")
    started = Heads(start_restore(plain, r, ghost), h.a)
    ended = remove_restored(c)
    return {
        "unbounded-restore-heads": [
            keeps(write_s(h, d)),
            keeps(write_s(h, patch, whole=False)),
            keeps(in_c(h, lambda y: write_other(y, m, d), bad), other),
            keeps(in_c(h, lambda y: write_other(y, m, patch, whole=False), bad), other),
            keeps(in_c(h, lambda y: background(y, k), bad), k >= 1, k <= c.n),
            keeps(in_c(h, insert_after_restored, bad)),
            keeps(in_c(h, lambda y: remove_other(y, m), bad), other),
            keeps(in_a(h, j, lambda y: target_write(y, m, d)), in_a_range),
            keeps(
                in_a(h, j, lambda y: target_write(y, m, landed(y.ref[m], patch, False))),
                in_a_range,
            ),
            keeps(in_a(h, j, lambda y: remove_cleaned(y, m)), in_a_range, a.n >= 2),
            # the restore's start leaves every A_j as it was: its head presents the same storage
            z3.Implies(every_cascade(h, plain.phys[0]), every_cascade(started)),
            # S leaves after cleaning: plain cascades from S, C and every A_j
            z3.Implies(
                z3.And(ok, c.n >= 2),
                z3.And(inv(ended), every_cascade(h, ended.phys[0])),
            ),
        ],
    }


CONTROL_OF = {"unbounded-restore-heads": "copy"}

WRONG_RULES = {
    "copy": "a copy into the restored source preserves the grain for one frozen head's reader",
}


def not_vacuous() -> bool:
    """Inv holds of given cascades: `restore.not_vacuous`'s C (S at r = 3 holding w0), A_1 of
    two snapshots, the first reading S's w0 and the second holding w3, and every other A_j of
    one snapshot reading S's w0."""
    w = z3.Consts("hw0 hw1 hw2 hw3", Data)
    split = z3.Store(z3.Store(z3.K(z3.IntSort(), z3.BoolVal(False)), 2, True), 4, True)
    phys = z3.Store(z3.Store(z3.K(z3.IntSort(), w[0]), 2, w[1]), 4, w[2])
    ref = z3.Store(z3.Store(z3.Store(z3.K(z3.IntSort(), w[0]), 2, w[1]), 3, w[1]), 4, w[2])
    c = Restored(z3.IntVal(4), z3.IntVal(3), split, phys, ref, z3.IntVal(2))
    none = z3.K(z3.IntSort(), z3.BoolVal(False))
    plain = z3.K(z3.IntSort(), w[0])  # the grain of S, read through the head
    a = Snapshots(
        z3.IntVal(3),
        z3.Store(z3.K(z3.IntSort(), z3.IntVal(1)), 1, 2),
        z3.Store(z3.K(z3.IntSort(), none), 1, z3.Store(none, 2, True)),
        z3.Store(z3.K(z3.IntSort(), plain), 1, z3.Store(plain, 2, w[3])),
        z3.Store(z3.K(z3.IntSort(), plain), 1, z3.Store(plain, 2, w[3])),
    )
    return holds_of(w, heads_inv(Heads(c, a)))


def given_heads(w: Any) -> Heads:
    """A given state of the invariant, with w[0] and w[1] distinct data: C of two positions,
    S restored at r = 2 from position 1, which holds w1 (so S reads w1, and its storage keeps
    w0); A_1 of one snapshot reading S's old grain w0."""
    none = z3.K(z3.IntSort(), z3.BoolVal(False))
    c = Restored(
        z3.IntVal(2),
        z3.IntVal(2),
        z3.Store(none, 1, True),
        z3.Store(z3.Store(z3.K(z3.IntSort(), w[0]), 1, w[1]), 2, w[0]),
        z3.Store(z3.Store(z3.K(z3.IntSort(), w[0]), 1, w[1]), 2, w[1]),
        z3.IntVal(1),
    )
    reads = z3.K(z3.IntSort(), w[0])
    a = Snapshots(
        z3.IntVal(1),
        z3.K(z3.IntSort(), z3.IntVal(1)),
        z3.K(z3.IntSort(), none),
        z3.K(z3.IntSort(), reads),
        z3.K(z3.IntSort(), reads),
    )
    return Heads(c, a)


def broken_at_a_given_state(wrong: str) -> bool:
    """The control, decided on a given state W instead of searched for: Inv holds of W (a
    check that is quantifier-free once negated) and the wrong rule's step from W breaks Inv
    (satisfiable: quantifier-free too). W: C of two positions, S restored at r = 2 from
    position 1, which holds w1 (so S reads w1, and its storage keeps w0); A_1 of one snapshot
    reading S's old grain w0. The step: a write of w2 to position 1, whose copy-on-write
    moves w1 into S. Z3's search for such a state, under the quantified invariant of arrays
    of arrays, took from 0.3 s to over 90 s depending on the terms the process held."""
    w = z3.Consts("gw0 gw1 gw2", Data)
    given = given_heads(w)
    if not holds_of(w, heads_inv(given)):
        return False  # not a state of the invariant: it shows nothing
    after = in_c(given, lambda y: write_other(y, z3.IntVal(1), w[2]), wrong == "copy")
    solver = z3.Solver()
    solver.set("timeout", TIMEOUT_MS)
    solver.add(z3.Distinct(*w), z3.Not(heads_inv(after)))
    return solver.check() == z3.sat


def check_heads(wrong: str = "", only: set[str] | None = None) -> list[Outcome]:
    """Check the claim; with `wrong`, the claim under the control, which fails if the wrong
    rule breaks the invariant at a given state (`broken_at_a_given_state`) or the search finds
    a state where it does."""
    if wrong:
        began = time.perf_counter()
        if broken_at_a_given_state(wrong):
            detail = "a given state of the invariant (two positions, S at 2) is broken by the step"
            failure = Failure(None, None, detail)
            seconds = time.perf_counter() - began
            names = [n for n in CONTROL_OF if only is None or n in only]
            return [Outcome(n, "failed", seconds, 1, failure) for n in names]
    return check_parts(_claims(wrong), not_vacuous, "the invariant of several frozen heads", only)
