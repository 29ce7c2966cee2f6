"""Logic that runs two ways: on Z3 terms (proofs) and on plain Python values (checks).

Every rule in `model/` is written with these helpers instead of Python's `if`,
`and` and indexing wherever the decision depends on data or bitmaps. Given Z3
terms they build formulas; given Python values they compute the answer. That is
how the proofs and the conformance harness share one specification.

Sorts: grains and data are uninterpreted, so a proof holds for every volume size
and every content. A write covering part of a grain is `merge(old, patch)`, an
uninterpreted function: a rule that forgets to fill the rest of the grain from
the current image merges into the wrong old value, and the proof fails.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import z3

Grain = z3.DeclareSort("Grain")
Data = z3.DeclareSort("Data")
Patch = z3.DeclareSort("Patch")
MERGE = z3.Function("merge", Data, Patch, Data)


def symbolic(x: Any) -> bool:
    """Is this a Z3 term?"""
    return isinstance(x, z3.ExprRef)


def ite(cond: Any, then: Any, other: Any) -> Any:
    """If-then-else."""
    if symbolic(cond):
        return z3.If(cond, then, other)
    return then if cond else other


def eq(a: Any, b: Any) -> Any:
    """Equality."""
    if symbolic(a) or symbolic(b):
        return a == b
    return a == b


def not_(a: Any) -> Any:
    """Negation."""
    return z3.Not(a) if symbolic(a) else not a


def and_(*xs: Any) -> Any:
    """Conjunction."""
    if any(symbolic(x) for x in xs):
        return z3.And(*xs)
    return all(xs)


def or_(*xs: Any) -> Any:
    """Disjunction."""
    if any(symbolic(x) for x in xs):
        return z3.Or(*xs)
    return any(xs)


def implies(a: Any, b: Any) -> Any:
    """Implication."""
    if symbolic(a) or symbolic(b):
        return z3.Implies(a, b)
    return (not a) or b


def all_of(xs: Iterable[Any]) -> Any:
    """Conjunction of a sequence (True when empty)."""
    items = list(xs)
    return and_(*items) if items else True


def count(conds: Iterable[Any]) -> Any:
    """How many of the conditions hold (an integer term when symbolic)."""
    total: Any = 0
    for c in conds:
        total = total + ite(c, 1, 0) if symbolic(c) or symbolic(total) else total + int(bool(c))
    return total


def select(array: Any, index: Any) -> Any:
    """Read an array (a Z3 array, or a concrete GrainArray / Mapping)."""
    if symbolic(array):
        return z3.Select(array, index)
    return array[index]


def store(array: Any, index: Any, value: Any) -> Any:
    """A copy of the array with one element changed."""
    if symbolic(array):
        return z3.Store(array, index, value)
    return array.store(index, value)


def merge(old: Any, patch: Any) -> Any:
    """A partial write: the patch's blocks over the old grain."""
    if symbolic(old) or symbolic(patch):
        return MERGE(old, patch)
    return patch.apply(old)


# -- concrete values ---------------------------------------------------------------


@dataclass(frozen=True)
class BlockPatch:
    """Concrete partial-grain write: offset within the grain -> token."""

    blocks: tuple[tuple[int, str], ...]

    def apply(self, old: tuple[str | None, ...]) -> tuple[str | None, ...]:
        """The old grain with these blocks replaced."""
        out = list(old)
        for offset, token in self.blocks:
            out[offset] = token
        return tuple(out)


class GrainArray(Mapping[int, Any]):
    """A concrete array over grains: copy-on-store, so rules can treat it as a value."""

    def __init__(self, items: Mapping[int, Any]) -> None:
        self._items = dict(items)

    def __getitem__(self, index: int) -> Any:
        return self._items[index]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def store(self, index: int, value: Any) -> GrainArray:
        """A new array with one element replaced."""
        new = dict(self._items)
        new[index] = value
        return GrainArray(new)

    def __repr__(self) -> str:
        return f"GrainArray({self._items!r})"
