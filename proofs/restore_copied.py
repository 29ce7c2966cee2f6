"""A source copied anew while it is restored: the cascade it heads by its image, any length.

`proofs/restore_heads.py` is a source S restored from a clone of its clone cascade C (S at
C's position r), its old heads frozen: C's and m >= 1 snapshot cascades' A_j. A new snapshot
of S started while that restore runs cannot join a frozen head (a frozen head presents S's
storage, not the image S now has); it opens — or joins — a cascade N of its own, headed by
S's *image*: what S reads as C's target at r. (A new clone joins C at r+1: `in_c`.) When the
restore ends, S leaves C and N's head turns physical: N is then one more snapshot cascade of
S, which is how the A_j beyond the first arise (`restored-many-heads`). At one grain, for
every m, r and every length of every cascade (N's nN >= 0 too: no N yet):

    Inv:  `restore_heads.heads_inv`, and N's local invariant (`forest.local`) with N's head
          presenting S's image, C's ref[r]

The claims:

- `unbounded-restore-copied-steps`: a whole or partial write to S (N's first target, if it
  lacks the grain, first takes S's old image — as well as every reader the frozen-heads model
  preserves), every operation of the frozen-heads model in C and in the A_j (none changes S's
  image: a copy into S brings S what it reads already, so N is not preserved for — `Spec`'s
  cleaning write preserves the readers of *frozen* heads only), a whole or partial write to
  any target of N, removal of any target of N after cleaning, and a new snapshot of S (a new
  first target of N, whose image is S's) each keep Inv;
- `unbounded-restore-copied-end`: S leaving C after cleaning — into C's r+1 as before, and
  into N's first target where S does not hold the grain and the position above S does not
  present S's own grain (N's head falls back to S's storage) — leaves C and every A_j as
  `restore_heads` says and N a plain cascade whose head is S's storage.

Controls: a write to S that forgets N's first target, and S leaving without cleaning into
N. `proofs/restore_copied_refinement.py` ties the model to `Spec` up to a bound. Not modelled:
restores of restores, N's targets heading cascades of their own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import z3

from model.logic import Data, Patch

from .forest import insert, landed, local, preserve, remove_target, write_target
from .restore import (
    background,
    insert_after_restored,
    remove_other,
    remove_restored,
    write_other,
)
from .restore_heads import (
    Heads,
    every_cascade,
    fresh_heads,
    given_heads,
    heads_inv,
    in_a,
    in_c,
    write_s,
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
class Copied:
    """The frozen-heads model, and the cascade N that S heads by its image (N's phys[0] is
    not read while S is restored)."""

    h: Heads
    new: Cascade


def fresh_copied(tag: str) -> Copied:
    """An arbitrary restored source with frozen heads and a cascade headed by its image."""
    return Copied(fresh_heads(f"n{tag}"), fresh(f"_new{tag}"))


def image_of_s(x: Copied) -> Any:
    """What N's head presents while S is restored: S's image, C's ref at r."""
    return x.h.c.ref[x.h.c.r]


def new_inv(c: Cascade, top: Any) -> Any:
    """N's local invariant under what its head presents; N may have no target yet."""
    j = z3.Int("nj")
    return z3.And(c.n >= 0, z3.ForAll([j], local(c, j, top)))


def copied_inv(x: Copied) -> Any:
    """The frozen-heads invariant, and N's under S's image."""
    return z3.And(heads_inv(x.h), new_inv(x.new, image_of_s(x)))


# -- operations (each one rule; `wrong` selects a control's version) --------------------------


def write_to_s(x: Copied, data: Any, whole: bool = True, wrong: bool = False) -> Copied:
    """Write to S: N's first target keeps S's old image (it read it through N's image head),
    then the frozen-heads model's write to S."""
    new = x.new if wrong else preserve(x.new, 1, image_of_s(x))  # control: N forgotten
    return Copied(write_s(x.h, data, whole), new)


def in_heads(x: Copied, step: Any) -> Copied:
    """An operation of C or of an A_j: N is untouched (S's image does not change)."""
    return Copied(step(x.h), x.new)


def in_new(x: Copied, step: Any) -> Copied:
    """An operation of N alone: a write to, removal of or new first target of N."""
    return Copied(x.h, step(x.new))


def new_snapshot(x: Copied) -> Copied:
    """A new snapshot of S: N's new first target, holding nothing, with S's image."""
    return in_new(x, lambda c: insert(c, image_of_s(x)))


def s_leaves(x: Copied, wrong: bool = False) -> tuple[Cascade, Cascade]:
    """S leaves C after cleaning: N's first target takes S's image if S does not hold the
    grain and the position above S does not present S's own grain (then N's head, turning
    physical, would show S's stale storage); then `restore.remove_restored`. The result: C as
    a plain cascade from S, and N headed by S's storage (the A_j stay as they were)."""
    c = x.h.c
    owed = z3.And(z3.Not(c.split[c.r]), c.first < c.r)
    new = x.new if wrong else preserve(x.new, 1, image_of_s(x), owed)  # control: no cleaning
    ended = remove_restored(c)
    return ended, replace(new, phys=z3.Store(new.phys, 0, ended.phys[0]))


# -- obligations ------------------------------------------------------------------------------


def _claims(wrong: str) -> dict[str, list[Any]]:
    """Every claim; `wrong` names a control's rule."""
    x = fresh_copied("")
    c, n = x.h.c, x.new
    m, k, j = z3.Ints("cm ck cj")
    d = z3.Const("cd", Data)
    patch = z3.Const("cpatch", Patch)
    ok = copied_inv(x)
    other = z3.And(m >= 1, m <= c.n, m != c.r)
    snaps = x.h.a.n[j]  # the length of A_j
    in_a_range = z3.And(j >= 1, j <= x.h.a.m, m >= 1, m <= snaps)
    in_n = z3.And(m >= 1, m <= n.n)

    def keeps(post: Copied, *pre: Any) -> Any:
        return z3.Implies(z3.And(ok, *pre), copied_inv(post))

    def of_c(step: Any) -> Any:
        return lambda h: in_c(h, step)

    ended, new = s_leaves(x, wrong == "end")
    return {
        "unbounded-restore-copied-steps": [
            keeps(write_to_s(x, d, wrong=wrong == "write")),
            keeps(write_to_s(x, patch, whole=False, wrong=wrong == "write")),
            keeps(in_heads(x, of_c(lambda y: write_other(y, m, d))), other),
            keeps(in_heads(x, of_c(lambda y: write_other(y, m, patch, whole=False))), other),
            keeps(in_heads(x, of_c(lambda y: background(y, k))), k >= 1, k <= c.n),
            keeps(in_heads(x, of_c(insert_after_restored))),
            keeps(in_heads(x, of_c(lambda y: remove_other(y, m))), other),
            keeps(in_heads(x, lambda h: in_a(h, j, lambda y: target_write(y, m, d))), in_a_range),
            keeps(
                in_heads(
                    x,
                    lambda h: in_a(
                        h, j, lambda y: target_write(y, m, landed(y.ref[m], patch, False))
                    ),
                ),
                in_a_range,
            ),
            keeps(
                in_heads(x, lambda h: in_a(h, j, lambda y: remove_cleaned(y, m))),
                in_a_range,
                snaps >= 2,
            ),
            keeps(in_new(x, lambda y: write_target(y, m, d)), in_n),
            keeps(in_new(x, lambda y: write_target(y, m, patch, whole=False)), in_n),
            keeps(in_new(x, lambda y: remove_target(y, m)), in_n),
            keeps(new_snapshot(x)),
        ],
        "unbounded-restore-copied-end": [
            z3.Implies(
                z3.And(ok, c.n >= 2),
                z3.And(
                    inv(ended),
                    every_cascade(x.h, ended.phys[0]),
                    new_inv(new, new.phys[0]),
                ),
            ),
        ],
    }


CONTROL_OF = {
    "unbounded-restore-copied-steps": "write",
    "unbounded-restore-copied-end": "end",
}

WRONG_RULES = {
    "write": "a write to the restored source forgets the cascade it heads by its image",
    "end": "the restored source leaves without cleaning into the cascade headed by its image",
}


def _given(w: Any) -> Copied:
    """A given state of the invariant: `restore_heads.given_heads` (S restored at r = 2 reads
    w1, its storage keeps w0), and N of one snapshot reading S's image w1 and a second that
    holds w2."""
    none = z3.K(z3.IntSort(), z3.BoolVal(False))
    new = Cascade(
        z3.IntVal(2),
        z3.Store(none, 2, True),
        z3.Store(z3.K(z3.IntSort(), w[0]), 2, w[2]),
        z3.Store(z3.K(z3.IntSort(), w[1]), 2, w[2]),
    )
    return Copied(given_heads(w), new)


def not_vacuous() -> bool:
    """Inv holds of the given state (quantifier-free once negated)."""
    w = z3.Consts("nw0 nw1 nw2 nw3", Data)
    return holds_of(w, copied_inv(_given(w)))


def broken_at_a_given_state(wrong: str) -> bool:
    """The control decided at the given state (Inv holds there) instead of searched for under
    quantified arrays of arrays: the wrong rule's step breaks Inv there (quantifier-free).
    "write": a write of w3 to S, which leaves N's first target reading w3 instead of w1.
    "end": S leaves (it does not hold the grain, and position 1 above it holds w1), and N's
    first target would read S's storage w0."""
    w = z3.Consts("bw0 bw1 bw2 bw3", Data)
    given = _given(w)
    if not holds_of(w, copied_inv(given)):
        return False  # not a state of the invariant: it shows nothing
    solver = z3.Solver()
    solver.set("timeout", TIMEOUT_MS)
    solver.add(z3.Distinct(*w))
    if wrong == "write":
        solver.add(z3.Not(copied_inv(write_to_s(given, w[3], wrong=True))))
    else:
        _, new = s_leaves(given, wrong=True)
        solver.add(z3.Not(new_inv(new, new.phys[0])))
    return solver.check() == z3.sat


def check_copied(wrong: str = "", only: set[str] | None = None) -> list[Outcome]:
    """Check the claims; with `wrong`, the claim under its control, which fails if the wrong
    rule breaks the invariant at the given state or the search finds a state where it does."""
    names = [n for n, rule in CONTROL_OF.items() if rule == wrong and (only is None or n in only)]
    if wrong and names:
        began = time.perf_counter()
        if broken_at_a_given_state(wrong):
            detail = "a given state of the invariant (S at 2, N of two) is broken by the step"
            seconds = time.perf_counter() - began
            return [Outcome(n, "failed", seconds, 1, Failure(None, None, detail)) for n in names]
    return check_parts(_claims(wrong), not_vacuous, "the invariant with N", only)
