"""Two frozen heads: a source that headed a cascade of each type, restored from one of them.

S heads a clone cascade C and a snapshot cascade A (its snapshots). A restore from a clone of
C onto S puts S into C at position r (`proofs/restore.py`) and freezes *both* heads: each
presents S's own grain — the storage at C's position r — to its first target. So whatever
overwrites S's storage must first preserve S's old grain for the first target of A as well as
for C's: a write to S, and every copy that moves data into S while the restore runs (a write
to the target just before S, background copy into S, cleaning into S). At one grain, for
every length of both cascades (nC >= 2, nA >= 1, 1 <= r <= nC, all symbolic):

    Inv:  the restored invariant of C (`restore.restored_inv`)
          and A's local invariant (`unbounded.inv`) with A's head presenting C's phys[r]

The claim, `unbounded-restore-heads`: a whole or partial write to S, a whole or partial write
to any other target of C, background copy into any position of C, a new clone of S, removal
of any other target of C after cleaning, a whole or partial write to any target of A and
removal of any target of A after cleaning each keep Inv; the restore's start leaves A's
invariant as it was (A's head presents the same storage); and S leaving after cleaning leaves
two plain cascades from S, each with `unbounded.inv`.

Control: a copy that moves data into S preserves the grain for C's first target only (a
write to S still preserves it for both). `proofs/restore_refinement.py` ties the model to
`Spec` (V0 with clones and snapshots, restored from a clone) up to a bound. Not modelled: a new
snapshot of S while it is restored (it heads a new cascade as an image: `restored-then-copied`
in the bounded shapes), more than two frozen heads, restores of restores.
"""

from __future__ import annotations

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
from .unbounded import Cascade, check_parts, fresh, holds_of, inv, remove_cleaned, target_write
from .verdicts import Outcome


@dataclass(frozen=True)
class Heads:
    """One grain of C, restored (S at r), and A, whose frozen head presents C's phys[r]."""

    c: Restored
    a: Cascade  # a.phys[0] is not used: the head presents S's storage, c.phys[c.r]


def fresh_heads(tag: str) -> Heads:
    """An arbitrary pair of cascades."""
    return Heads(fresh_restored(f"c{tag}"), fresh(f"a{tag}"))


def snapshots(h: Heads) -> Cascade:
    """A as a plain cascade whose head's contents are S's storage."""
    return Cascade(h.a.n, h.a.split, z3.Store(h.a.phys, 0, h.c.phys[h.c.r]), h.a.ref)


def heads_inv(h: Heads) -> Any:
    """C's restored invariant and A's local invariant under S's storage."""
    return z3.And(restored_inv(h.c), inv(snapshots(h)))


def preserve(a: Cascade, grain: Any, when: Any) -> Cascade:
    """Preservation rule for a frozen head's reader: where S's storage is overwritten, A's
    first target, if it lacks the grain, first takes S's old grain (it read it through the
    head); its bit is set."""
    phys = z3.Store(a.phys, 1, z3.If(z3.And(when, z3.Not(a.split[1])), grain, a.phys[1]))
    return Cascade(a.n, z3.Store(a.split, 1, z3.Or(a.split[1], when)), phys, a.ref)


# -- operations (each one rule; `wrong` selects the control's version) ------------------------


def write_s(h: Heads, data: Any, whole: bool = True) -> Heads:
    """Write to S: both frozen heads' readers keep S's old grain, then C's write rule."""
    a = preserve(h.a, h.c.phys[h.c.r], z3.BoolVal(True))
    return Heads(write_restored(h.c, data, whole=whole), a)


def in_c(h: Heads, step: Any, wrong: bool = False) -> Heads:
    """An operation of C: where one of its copies moved data into S (C's own preservation
    made), A's first target keeps S's old grain too."""
    c = step(h.c)
    if wrong:  # control: only C's frozen head is preserved for
        return Heads(c, h.a)
    return Heads(c, preserve(h.a, h.c.phys[h.c.r], c.moved))


def in_a(h: Heads, step: Any) -> Heads:
    """An operation of A alone (a write to or removal of one of its targets)."""
    return Heads(h.c, step(snapshots(h)))


# -- obligations ------------------------------------------------------------------------------


def _claims(wrong: str) -> dict[str, list[Any]]:
    """Every claim about the two cascades; `wrong` names the control's rule."""
    h = fresh_heads("")
    m, k = z3.Ints("hm hk")
    d = z3.Const("hd", Data)
    patch = z3.Const("hpatch", Patch)
    ok = heads_inv(h)
    c, a = h.c, snapshots(h)
    other = z3.And(m >= 1, m <= c.n, m != c.r)
    in_a_range = z3.And(m >= 1, m <= a.n)
    bad = wrong == "copy"

    def keeps(post: Heads, *pre: Any) -> Any:
        return z3.Implies(z3.And(ok, *pre), heads_inv(post))

    plain = fresh("_hs")
    r, ghost = z3.Int("hr"), z3.Int("hfirst")
    started = start_restore(plain, r, ghost)
    before = Cascade(h.a.n, h.a.split, z3.Store(h.a.phys, 0, plain.phys[0]), h.a.ref)
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
            keeps(in_a(h, lambda y: target_write(y, m, d)), in_a_range),
            keeps(
                in_a(h, lambda y: target_write(y, m, landed(y.ref[m], patch, False))), in_a_range
            ),
            keeps(in_a(h, lambda y: remove_cleaned(y, m)), in_a_range, a.n >= 2),
            # the restore's start leaves A as it was: its head presents the same storage
            z3.Implies(inv(before), inv(snapshots(Heads(started, h.a)))),
            # S leaves after cleaning: two plain cascades from S
            z3.Implies(
                z3.And(ok, c.n >= 2),
                z3.And(
                    inv(ended),
                    inv(Cascade(a.n, a.split, z3.Store(a.phys, 0, ended.phys[0]), a.ref)),
                ),
            ),
        ],
    }


CONTROL_OF = {"unbounded-restore-heads": "copy"}

WRONG_RULES = {
    "copy": "a copy into the restored source preserves the grain for one frozen head's reader",
}


def not_vacuous() -> bool:
    """Inv holds of given cascades: `restore.not_vacuous`'s C (S at r = 3 holding w0) and A of
    two snapshots, the first reading S's w0, the second holding w3."""
    w = z3.Consts("hw0 hw1 hw2 hw3", Data)
    split = z3.Store(z3.Store(z3.K(z3.IntSort(), z3.BoolVal(False)), 2, True), 4, True)
    phys = z3.Store(z3.Store(z3.K(z3.IntSort(), w[0]), 2, w[1]), 4, w[2])
    ref = z3.Store(z3.Store(z3.Store(z3.K(z3.IntSort(), w[0]), 2, w[1]), 3, w[1]), 4, w[2])
    c = Restored(z3.IntVal(4), z3.IntVal(3), split, phys, ref, z3.IntVal(2))
    a_split = z3.Store(z3.K(z3.IntSort(), z3.BoolVal(False)), 2, True)
    a_phys = z3.Store(z3.K(z3.IntSort(), w[0]), 2, w[3])
    a_ref = z3.Store(z3.Store(z3.K(z3.IntSort(), w[0]), 1, w[0]), 2, w[3])
    return holds_of(w, heads_inv(Heads(c, Cascade(z3.IntVal(2), a_split, a_phys, a_ref))))


def check_heads(wrong: str = "", only: set[str] | None = None) -> list[Outcome]:
    """Check the claim (or, with `wrong`, the claim under the control)."""
    return check_parts(_claims(wrong), not_vacuous, "the invariant of two frozen heads", only)
