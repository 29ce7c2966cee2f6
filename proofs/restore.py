"""A restore in a cascade of any length: the restored source at any position of its own cascade.

A source S heads a clone cascade; a restore starts a map from the target at position r-1 back
onto S, so S joins the cascade as a target at position r (2 <= r <= n, n >= 2 symbolic; r
may later fall to 1) while its old head stays *frozen*: a physical head of a volume that is
now a target, presenting S's own grain to position 1. The head and position r are one storage:
the model keeps S's grain at `phys[r]` only, and the head presents it. At one grain (so every size):

    Local(i), 1 <= i <= n:  split[i] => phys[i] = ref[i];  not split[i] => ref[i] = up(i)
                            up(1) = phys[r] (the frozen head), up(i) = ref[i-1]
    First:                  1 <= first <= n+1;  first <= n => split[first]
    Chain(i), i < first:    not split[i] and ref[i] = phys[r]

`first` is a ghost: the first position that holds the grain (n+1: none). `Spec`'s copy into S
(at r) moves data only where the position above does not already present S's own grain (its
holder is not S): that is `first < r`, and Chain says what every position before the first
holder reads — S's own grain. With the ghost every fact is local, so Z3 needs no induction
(a ghost array "some position up to i holds" needed one: that position 1 holds makes it true
everywhere only by induction). S may also sit at r = 1, right under its own head: the target
it was restored from has left.

The claims, for every n and r:

- `unbounded-restore-steps`: a write to S (copy-on-write into r+1 and into position 1, the
  reader of the frozen head), a write to any other target (into S at r when it is next: then
  first the preservation copy into position 1) — each whole-grain or partial (the patch
  merged over the image the written volume is first filled with) — background copy into any
  position (into S guarded by `first < r`, preservation first), a new target of S (at r+1),
  and removal of any other target after cleaning each keep the invariant;
- `unbounded-restore-start`: from one cascade of any length (`unbounded.inv`), a restore from
  any target onto the head gives the invariant (Chain by explicit induction on i);
- `unbounded-restore-end`: S leaving its position after cleaning (the restore completed or
  stopped) leaves one cascade of the restored volume with `unbounded.inv`.

Controls: a write to S without the preservation copy, a restore that gives S the image of the
target after the one it is restored from, and S leaving without cleaning.
`proofs/restore_refinement.py` ties the model to `Spec` at every n and r up to a bound. Not
modelled: snapshots (a restore map and its cascade are clones here), several
frozen heads, restores of restores (the bounded shapes carry them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import z3

from model.logic import Data, Patch

from . import unbounded
from .forest import landed
from .unbounded import Cascade, check_parts, fresh, holds_of, inv
from .verdicts import Outcome


@dataclass(frozen=True)
class Restored:
    """One grain of a cascade of n targets whose head S is restored into position r."""

    n: Any
    r: Any
    split: Any
    phys: Any
    ref: Any
    first: Any  # ghost: the first position that holds the grain (n+1: none)
    moved: Any = False  # ghost of one operation: a copy moved data into S (`restore_heads.py`)


def fresh_restored(tag: str) -> Restored:
    """An arbitrary restored cascade."""
    return Restored(
        z3.Int(f"rn{tag}"),
        z3.Int(f"rr{tag}"),
        z3.Array(f"rsplit{tag}", z3.IntSort(), z3.BoolSort()),
        z3.Array(f"rphys{tag}", z3.IntSort(), Data),
        z3.Array(f"rref{tag}", z3.IntSort(), Data),
        z3.Int(f"rfirst{tag}"),
    )


def up(c: Restored, i: Any) -> Any:
    """The image upstream of position i: the previous target's, or the frozen head's grain."""
    return z3.If(i == 1, c.phys[c.r], c.ref[i - 1])


def local(c: Restored, i: Any) -> Any:
    """Local and Chain at position i."""
    return z3.Implies(
        z3.And(i >= 1, i <= c.n),
        z3.And(
            z3.Implies(c.split[i], c.phys[i] == c.ref[i]),
            z3.Implies(z3.Not(c.split[i]), c.ref[i] == up(c, i)),
            z3.Implies(i < c.first, z3.And(z3.Not(c.split[i]), c.ref[i] == c.phys[c.r])),
        ),
    )


def first_holds(c: Restored) -> Any:
    """First: the ghost is a position, or n+1; if a position, it holds the grain."""
    return z3.And(c.first >= 1, c.first <= c.n + 1, z3.Implies(c.first <= c.n, c.split[c.first]))


def restored_inv(c: Restored) -> Any:
    """S restored at 1 <= r <= n, First, and Local and Chain everywhere."""
    i = z3.Int("i")
    return z3.And(c.r >= 1, c.r <= c.n, first_holds(c), z3.ForAll([i], local(c, i)))


# -- operations (each one rule; `wrong` selects a control's version) --------------------------


def copy_into(c: Restored, k: Any, guard: Any) -> Restored:
    """Copy-into rule at position k: if the guard holds and k lacks the grain, k takes what it
    reads (its image, by Local); the bit is set wherever the guard holds. Into S (k = r) data
    moves only where the position above does not present S's own grain, and then the frozen
    head's reader (position 1) first gets S's old grain."""
    into_s = k == c.r
    moves = z3.And(guard, z3.Not(c.split[k]), z3.Or(z3.Not(into_s), c.first < c.r))
    keep = z3.And(into_s, moves, z3.Not(c.split[1]))  # the preservation copy into position 1
    phys = z3.Store(c.phys, 1, z3.If(keep, c.phys[c.r], c.phys[1]))
    split = z3.Store(c.split, 1, z3.Or(c.split[1], keep))
    phys = z3.Store(phys, k, z3.If(moves, c.ref[k], phys[k]))
    split = z3.Store(split, k, z3.Or(split[k], guard))
    first = z3.If(keep, 1, c.first)
    first = z3.If(z3.And(guard, k < first), k, first)
    return Restored(c.n, c.r, split, phys, c.ref, first, z3.Or(c.moved, z3.And(into_s, moves)))


def overwrite(c: Restored, m: Any, data: Any) -> Restored:
    """A whole-grain write lands at m: it holds the grain, and its image is the new data."""
    return Restored(
        c.n,
        c.r,
        z3.Store(c.split, m, True),
        z3.Store(c.phys, m, data),
        z3.Store(c.ref, m, data),
        z3.If(m < c.first, m, c.first),
        c.moved,
    )


def write_restored(c: Restored, data: Any, wrong: bool = False, whole: bool = True) -> Restored:
    """Write to S: copy-on-write into r+1 (its own position's reader) and into position 1 (the
    frozen head's reader), then the write (a partial one: the patch over S's image, which S
    is first filled with where it lacks the grain)."""
    c = copy_into(c, c.r + 1, c.r + 1 <= c.n)
    if not wrong:  # control: the frozen head's reader is forgotten
        c = copy_into(c, z3.IntVal(1), z3.BoolVal(True))
    return overwrite(c, c.r, landed(c.ref[c.r], data, whole))


def write_other(c: Restored, m: Any, data: Any, whole: bool = True) -> Restored:
    """Write to the target at m (not S): copy-on-write into m+1 — S itself when it is next,
    with its preservation copy — then the write (a partial one over m's image)."""
    c = copy_into(c, m + 1, m + 1 <= c.n)
    return overwrite(c, m, landed(c.ref[m], data, whole))


def background(c: Restored, k: Any) -> Restored:
    """One grain of background copy into position k (every target is a clone here)."""
    return copy_into(c, k, z3.BoolVal(True))


def insert_after_restored(c: Restored) -> Restored:
    """A new target of S joins at r+1 holding nothing, its image S's; the rest shift down."""
    j = z3.Int("ij")
    at = c.r + 1

    def shift(a: Any, new: Any) -> Any:
        return z3.Lambda([j], z3.If(j < at, a[j], z3.If(j == at, new, a[j - 1])))

    return Restored(
        c.n + 1,
        c.r,
        shift(c.split, z3.BoolVal(False)),
        shift(c.phys, c.phys[at]),
        shift(c.ref, c.ref[c.r]),
        z3.If(c.first > c.r, c.first + 1, c.first),
    )


def close(c: Restored, m: Any) -> tuple[Any, Any, Any]:
    """The arrays with position m taken out (the positions after it shift up)."""
    j = z3.Int("xj")

    def shut(a: Any) -> Any:
        return z3.Lambda([j], z3.If(j < m, a[j], a[j + 1]))

    return shut(c.split), shut(c.phys), shut(c.ref)


def remove_other(c: Restored, m: Any) -> Restored:
    """Removal of the target at m (not S) after cleaning: m+1 gets the grain if m holds it and
    m+1 does not (into S with its preservation copy); then m goes."""
    c = copy_into(c, m + 1, z3.And(m + 1 <= c.n, c.split[m], z3.Not(c.split[m + 1])))
    split, phys, ref = close(c, m)
    first = z3.If(c.first > m, c.first - 1, c.first)  # a first holder at m was cleaned into m+1
    return Restored(c.n - 1, z3.If(m < c.r, c.r - 1, c.r), split, phys, ref, first, c.moved)


def remove_restored(c: Restored, wrong: bool = False) -> Cascade:
    """S leaves its position after cleaning: r+1 gets the grain if S holds it, r+1 does not,
    and the position above does not present S's own grain already; S is then the cascade's
    plain head, presenting its grain."""
    if not wrong:  # control: S leaves without cleaning
        need = z3.And(c.r + 1 <= c.n, c.split[c.r], z3.Not(c.split[c.r + 1]), c.first < c.r)
        c = copy_into(c, c.r + 1, need)
    split, phys, ref = close(c, c.r)
    return Cascade(c.n - 1, split, z3.Store(phys, 0, c.phys[c.r]), ref)


def start_restore(c: Cascade, r: Any, first: Any, wrong: bool = False) -> Restored:
    """From one cascade, a restore from the target at r-1 onto its head: the head's grain moves
    to position r (the same storage), which holds nothing and takes the image of position r-1;
    the positions from r on shift down. `first` is the ghost of the result, given."""
    j = z3.Int("sj")

    def shift(a: Any, new: Any) -> Any:
        return z3.Lambda([j], z3.If(j < r, a[j], z3.If(j == r, new, a[j - 1])))

    image = c.ref[r] if wrong else c.ref[r - 1]  # control: the image of the target after
    return Restored(
        c.n + 1,
        r,
        shift(c.split, z3.BoolVal(False)),
        shift(c.phys, c.phys[0]),
        shift(c.ref, image),
        first,
    )


# -- obligations -----------------------------------------------------------------------------


def _claims(wrong: str) -> dict[str, list[Any]]:
    """Every claim about the restored cascade; `wrong` names a control's rule."""
    c = fresh_restored("")
    m, k, i = z3.Ints("m k i")
    d = z3.Const("d", Data)
    patch = z3.Const("patch", Patch)
    ok = restored_inv(c)
    other = z3.And(m >= 1, m <= c.n, m != c.r)

    def keeps(post: Restored, *pre: Any) -> Any:
        return z3.Implies(z3.And(ok, *pre), restored_inv(post))

    # the restore's start, from one cascade (n targets, restored after the one at r-1). These
    # parts are quantifier-free: each assumes the instances of the hypotheses it needs at the
    # positions it is about (implied by the quantified ones), so Z3 decides them whatever else
    # its context holds (quantified, part 3 came back unknown after 20,000 unrelated terms)
    plain = fresh("_s")
    r = z3.Int("r")
    ghost = z3.Int("sfirst")
    started = start_restore(plain, r, ghost, wrong == "start")

    def chain(x: Any) -> Any:
        return z3.Implies(
            z3.And(x >= 1, x <= started.n, x < ghost), started.ref[x] == started.phys[r]
        )

    def near(x: Any) -> Any:
        """The hypotheses' instances about position x: the old cascade's Local at x and x-1,
        and that the new ghost is the first holder as far as x."""
        return z3.And(
            unbounded.local(plain, x),
            unbounded.local(plain, x - 1),
            z3.Implies(z3.And(x >= 1, x < ghost), z3.Not(started.split[x])),
        )

    at = z3.And(plain.n >= 1, r >= 2, r <= plain.n + 1, first_holds(started))
    starts = [
        z3.Implies(z3.And(at, near(z3.IntVal(1))), chain(z3.IntVal(1))),  # Chain: base
        z3.Implies(z3.And(at, i >= 2, near(i), chain(i - 1)), chain(i)),  # and step
        z3.Implies(  # then, with Chain, the invariant at every position i
            z3.And(at, near(i), chain(i), chain(r - 1)),
            z3.And(started.r >= 1, started.r <= started.n, local(started, i)),
        ),
    ]

    return {
        "unbounded-restore-steps": [
            keeps(write_restored(c, d, wrong == "write")),
            keeps(write_restored(c, patch, wrong == "write", whole=False)),
            keeps(write_other(c, m, d), other),
            keeps(write_other(c, m, patch, whole=False), other),
            keeps(background(c, k), k >= 1, k <= c.n),
            keeps(insert_after_restored(c)),
            keeps(remove_other(c, m), other),
        ],
        "unbounded-restore-start": starts,
        "unbounded-restore-end": [  # (S alone in its cascade leaves nothing behind)
            z3.Implies(z3.And(ok, c.n >= 2), inv(remove_restored(c, wrong == "end"))),
        ],
    }


CONTROL_OF = {
    "unbounded-restore-steps": "write",
    "unbounded-restore-start": "start",
    "unbounded-restore-end": "end",
}

WRONG_RULES = {
    "write": "a write to the restored source does not preserve the frozen head's reader",
    "start": "a restore gives the source the image of the target after the one it is from",
    "end": "the restored source leaves its position without cleaning",
}


def not_vacuous() -> bool:
    """The invariant holds of a given long restored cascade (n = 4, S at r = 3; position 2
    holds w1, so S reads w1; position 4 holds w2); quantifier-free once negated."""
    w = z3.Consts("w0 w1 w2", Data)
    split = z3.Store(z3.Store(z3.K(z3.IntSort(), z3.BoolVal(False)), 2, True), 4, True)
    phys = z3.Store(z3.Store(z3.K(z3.IntSort(), w[0]), 2, w[1]), 4, w[2])
    ref = z3.Store(z3.Store(z3.Store(z3.K(z3.IntSort(), w[0]), 2, w[1]), 3, w[1]), 4, w[2])
    witness = Restored(z3.IntVal(4), z3.IntVal(3), split, phys, ref, z3.IntVal(2))
    return holds_of(w, restored_inv(witness))


def check_restore(wrong: str = "", only: set[str] | None = None) -> list[Outcome]:
    """Check every claim (or, with `wrong`, the claims under that control)."""
    return check_parts(_claims(wrong), not_vacuous, "the invariant", only)
