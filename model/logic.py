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

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
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


_CONSTANTS: dict[tuple[type, int], z3.ExprRef] = {}


def _lift(x: Any) -> Any:
    """Python integers (volume indexes, kind codes) and truth values as shared Z3 constants."""
    if isinstance(x, int):  # bool is an int: the key keeps True and 1 apart
        key = (type(x), int(x))
        if key not in _CONSTANTS:
            _CONSTANTS[key] = z3.BoolVal(x) if isinstance(x, bool) else z3.IntVal(x)
        return _CONSTANTS[key]
    return x


# While `shared_terms()` is open, a term built twice from the same operands is built once.
# Z3 shares equal terms itself, so the result is the same term either way; what is saved is the
# Python side of building it (the API call, its checks, a new wrapper object), which is most of
# what a proof's term building costs. Each entry keeps its operands alive, so the addresses in
# its key are not reused by other terms while the cache is open. Symbolic states name their
# constants after the volumes, so shapes checked one after another share most of their terms;
# the cache starts afresh once it holds `SHARED_TERMS_LIMIT` entries.
_BUILT: dict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] | None = None
SHARED_TERMS_LIMIT = 200_000


@contextlib.contextmanager
def shared_terms() -> Iterator[None]:
    """Within this block, equal operands give the very same term object, built once (a nested
    block shares the outer one's cache)."""
    global _BUILT
    if _BUILT is not None:
        yield
        return
    _BUILT = {}
    try:
        yield
    finally:
        _BUILT = None


def _built(make: Callable[..., Any], *operands: Any) -> Any:
    """`make(*operands)`, or the term it made before from the same Z3 operands while a cache is
    open (the key: the maker and the operands' addresses)."""
    if _BUILT is None:
        return make(*operands)
    key = (make, *[x.ast.value for x in operands])
    hit = _BUILT.get(key)
    if hit is None:
        if len(_BUILT) >= SHARED_TERMS_LIMIT:
            _BUILT.clear()
        hit = _BUILT[key] = (operands, make(*operands))
    return hit[1]


def ite(cond: Any, then: Any, other: Any) -> Any:
    """If-then-else."""
    if symbolic(cond):
        then, other = _lift(then), _lift(other)
        return _built(_mk_ite, cond, then, other)
    return then if cond else other


def _mk_ite(cond: Any, then: Any, other: Any) -> Any:
    """The direct API call (Z3 itself checks the sorts): z3.If is slow."""
    if then.eq(other):
        return then
    ctx = cond.ctx
    ast = z3.Z3_mk_ite(ctx.ref(), cond.as_ast(), then.as_ast(), other.as_ast())
    return z3.z3._to_expr_ref(ast, ctx)


def eq(a: Any, b: Any) -> Any:
    """Equality (a Z3 term when either side is one: Z3 overloads `==`)."""
    a, b = (_lift(a), _lift(b)) if symbolic(a) or symbolic(b) else (a, b)
    if symbolic(a) and symbolic(b):  # the direct API call (Z3 checks the sorts): `==` is slow
        return _built(_mk_eq, a, b)
    return a == b


def _mk_eq(a: Any, b: Any) -> Any:
    """The direct API call for `==` of two terms."""
    return z3.BoolRef(z3.Z3_mk_eq(a.ctx.ref(), a.as_ast(), b.as_ast()), a.ctx)


def not_(a: Any) -> Any:
    """Negation."""
    if symbolic(a):  # the direct API call (Z3 checks the sort): z3.Not is slow
        return _built(_mk_not, a)
    return not a


def _mk_not(a: Any) -> Any:
    """The direct API call for a negation."""
    return z3.BoolRef(z3.Z3_mk_not(a.ctx.ref(), a.as_ast()), a.ctx)


def _connective(xs: tuple[Any, ...], unit: bool, make: Any) -> Any:
    """And (unit True) or Or (unit False): plain operands fold away (a plain absorbing value
    decides), the symbolic ones are joined by one direct API call (z3.And re-coerces each)."""
    terms = []
    for x in xs:
        if symbolic(x):
            terms.append(x)
        elif bool(x) != unit:
            return not unit
    if not terms:
        return unit
    if len(terms) == 1:
        return terms[0]
    return _built(make, *terms)


def _join(make: Any, terms: tuple[Any, ...]) -> Any:
    """Several Boolean terms joined by one direct API call of `make` (z3.And re-coerces each)."""
    ctx = terms[0].ctx
    array, n = z3.z3._to_ast_array(terms)
    return z3.BoolRef(make(ctx.ref(), n, array), ctx)


def _mk_and(*terms: Any) -> Any:
    """The direct API call for a conjunction."""
    return _join(z3.Z3_mk_and, terms)


def _mk_or(*terms: Any) -> Any:
    """The direct API call for a disjunction."""
    return _join(z3.Z3_mk_or, terms)


def and_(*xs: Any) -> Any:
    """Conjunction."""
    return _connective(xs, True, _mk_and)


def or_(*xs: Any) -> Any:
    """Disjunction."""
    return _connective(xs, False, _mk_or)


def implies(a: Any, b: Any) -> Any:
    """Implication."""
    if symbolic(a) and symbolic(b):  # the direct API call: z3.Implies is slow
        return z3.BoolRef(z3.Z3_mk_implies(a.ctx.ref(), a.as_ast(), b.as_ast()), a.ctx)
    if symbolic(a) or symbolic(b):
        return z3.Implies(a, b)
    return (not a) or b


def all_of(xs: Iterable[Any]) -> Any:
    """Conjunction of a sequence (True when empty)."""
    items = list(xs)
    return and_(*items) if items else True


def any_of(xs: Iterable[Any]) -> Any:
    """Disjunction of a sequence (False when empty)."""
    items = list(xs)
    return or_(*items) if items else False


def select(array: Any, index: Any) -> Any:
    """Read an array (a Z3 array, or a concrete GrainArray / Mapping)."""
    if symbolic(array):  # the direct API call (Z3 checks the sorts): z3.Select is slow
        return _built(_mk_select, array, _lift(index))
    return array[index]


def _mk_select(array: Any, index: Any) -> Any:
    """The direct API call for a read of a Z3 array."""
    ctx = array.ctx
    return z3.z3._to_expr_ref(z3.Z3_mk_select(ctx.ref(), array.as_ast(), index.as_ast()), ctx)


def store(array: Any, index: Any, value: Any) -> Any:
    """A copy of the array with one element changed."""
    if symbolic(array):
        index, value = _lift(index), _lift(value)
        return _built(_mk_store, array, index, value)
    return array.store(index, value)


def _mk_store(array: Any, index: Any, value: Any) -> Any:
    """The direct API call (Z3 checks the sorts): z3.Store is slow."""
    ctx = array.ctx
    ast = z3.Z3_mk_store(ctx.ref(), array.as_ast(), index.as_ast(), value.as_ast())
    return z3.ArrayRef(ast, ctx)


def const_like(array: Any, value: Any) -> Any:
    """An array over the same grains holding one value everywhere."""
    if symbolic(array):
        return z3.K(array.domain(), value)
    return GrainArray(dict.fromkeys(array, value), default=value)


def and_not(a: Any, b: Any) -> Any:
    """Elementwise `a and not b` of two boolean arrays (incremental restart)."""
    if symbolic(a) or symbolic(b):
        x = z3.Const("g!and_not", a.domain())
        return z3.Lambda([x], z3.And(z3.Select(a, x), z3.Not(z3.Select(b, x))))
    keys = set(a) | set(b)
    default = None
    if a.default is not None and b.default is not None:
        default = a.default and not b.default
    return GrainArray({k: a[k] and not b[k] for k in keys}, default=default)


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

    def __init__(self, items: Mapping[int, Any], default: Any = None) -> None:
        self._items = dict(items)
        self._default = default

    def __getitem__(self, index: int) -> Any:
        if index in self._items:
            return self._items[index]
        if self._default is None:
            raise KeyError(index)
        return self._default

    @property
    def default(self) -> Any:
        """The value of every grain not stored explicitly (None: such grains are unknown)."""
        return self._default

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def store(self, index: int, value: Any) -> GrainArray:
        """A new array with one element replaced."""
        new = dict(self._items)
        new[index] = value
        return GrainArray(new, self._default)

    def store_many(self, values: Mapping[int, Any]) -> GrainArray:
        """A new array with several elements replaced (one copy, not one per element)."""
        return GrainArray({**self._items, **values}, self._default)

    def __repr__(self) -> str:
        return f"GrainArray({self._items!r})"
