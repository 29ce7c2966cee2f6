"""The concrete side of `model/logic.py` agrees with the symbolic one: a `GrainArray` behaves as
Z3's theory of arrays says an array does, and a `BlockPatch` replaces exactly its blocks. (The
rules run on both; the proofs reason about the symbolic side, the step check runs the concrete
one, so the two must not drift apart.)"""

from __future__ import annotations

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from model.logic import BlockPatch, GrainArray, and_, any_of, implies, ite, or_, select, store

INDEX = st.integers(0, 5)
VALUE = st.sampled_from(["a", "b", "c", ""])
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("store"), INDEX, VALUE),
        st.tuples(st.just("many"), st.dictionaries(INDEX, VALUE, max_size=3)),
    ),
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(default=VALUE, ops=OPS)
def test_grain_arrays_agree_with_z3_arrays(default: str, ops: list[tuple]) -> None:
    concrete = GrainArray({}, default=default)
    symbolic = z3.K(z3.IntSort(), z3.StringVal(default))
    for op in ops:
        pairs = [(op[1], op[2])] if op[0] == "store" else list(op[1].items())
        before = concrete
        concrete = store(concrete, *pairs[0]) if op[0] == "store" else concrete.store_many(op[1])
        for i, v in pairs:
            symbolic = z3.Store(symbolic, i, z3.StringVal(v))
        assert before is not concrete  # a new value: the old one is unchanged
    for i in range(6):
        want = z3.simplify(z3.Select(symbolic, i)).as_string()
        assert select(concrete, i) == want


def test_an_array_without_a_default_has_no_unknown_grains() -> None:
    with pytest.raises(KeyError) as err:
        GrainArray({0: "a"})[1]
    assert err.value.args == (1,)
    assert GrainArray({0: "a"})[0] == "a" and GrainArray({}, default="z")[7] == "z"


@settings(max_examples=100, deadline=None)
@given(
    old=st.lists(VALUE, min_size=1, max_size=4),
    patch=st.dictionaries(st.integers(0, 3), VALUE, max_size=4),
)
def test_a_block_patch_replaces_exactly_its_blocks(old: list[str], patch: dict) -> None:
    patch = {k: v for k, v in patch.items() if k < len(old)}
    got = BlockPatch(tuple(sorted(patch.items()))).apply(tuple(old))
    assert got == tuple(patch.get(i, t) for i, t in enumerate(old))


@pytest.mark.parametrize("values", [(), (True,), (False,), (True, False), (True, True)])
def test_connectives_on_plain_values_and_with_a_symbol(values: tuple[bool, ...]) -> None:
    x = z3.Bool("x")
    assert and_(*values) == all(values) and or_(*values) == any(values)
    assert any_of(values) == any(values)
    for got, want in ((and_(x, *values), z3.And(x, *values)), (or_(x, *values), z3.Or(x, *values))):
        s = z3.Solver()
        s.add(z3.Not(got == want) if z3.is_expr(got) else z3.Not(z3.BoolVal(got) == want))
        assert s.check() == z3.unsat
    assert ite(True, "a", "b") == "a" and ite(False, "a", "b") == "b"


@pytest.mark.parametrize("a", [True, False])
@pytest.mark.parametrize("b", [True, False])
def test_implication_on_plain_values_and_with_a_symbol(a: bool, b: bool) -> None:
    x = z3.Bool("x")
    assert implies(a, b) == ((not a) or b)
    for got, want in ((implies(a, x), z3.Implies(a, x)), (implies(x, b), z3.Implies(x, b))):
        s = z3.Solver()
        s.add(z3.Not(got == want) if z3.is_expr(got) else z3.Not(z3.BoolVal(got) == want))
        assert s.check() == z3.unsat


def test_integers_and_truth_values_become_shared_constants() -> None:
    """`_lift` caches Z3 numerals for volume indexes and kind codes and Z3's true and false:
    each is made once, and True and 1 stay apart."""
    from model.logic import _CONSTANTS, _lift

    fresh = 987_654
    _CONSTANTS.pop((int, fresh), None)
    first = _lift(fresh)
    assert z3.is_int_value(first) and first.as_long() == fresh and _lift(fresh) is first
    assert z3.is_true(_lift(True)) and _lift(True) is _lift(True)
    assert z3.is_false(_lift(False)) and _lift(1).as_long() == 1
    assert _lift("a") == "a"


def test_direct_api_calls_build_the_terms_z3_would() -> None:
    """`eq`, `not_`, `implies`, `store` and `select` call Z3's C API directly on terms (z3py's
    wrappers are slow); the terms are the very ones z3py builds, plain operands included."""
    from model.logic import Data, Grain, eq, not_, store

    arr, g = z3.Array("arr", Grain, Data), z3.Const("g", Grain)
    d, e = z3.Const("d", Data), z3.Const("e", Data)
    bits, x, y, n = z3.Array("bits", Grain, z3.BoolSort()), z3.Bool("x"), z3.Bool("y"), z3.Int("n")
    pairs = [
        (eq(d, e), d == e),
        (eq(n, 2), n == 2),
        (eq(2, n), z3.IntVal(2) == n),
        (not_(x), z3.Not(x)),
        (implies(x, y), z3.Implies(x, y)),
        (store(arr, g, d), z3.Store(arr, g, d)),
        (store(bits, g, True), z3.Store(bits, g, True)),
        (select(arr, g), z3.Select(arr, g)),
        (
            select(z3.Array("ints", z3.IntSort(), Data), 3),
            z3.Select(z3.Array("ints", z3.IntSort(), Data), 3),
        ),
        (
            store(z3.Array("ints", z3.IntSort(), Data), 3, d),
            z3.Store(z3.Array("ints", z3.IntSort(), Data), 3, d),
        ),
    ]
    for got, want in pairs:
        assert got.eq(want), (got, want)
    assert eq(1, 1) is True and not_(False) is True
    with pytest.raises(z3.Z3Exception):
        eq(d, n)  # Z3 itself still checks the sorts
    with pytest.raises(z3.Z3Exception):
        store(arr, g, n)


def test_a_term_built_twice_while_terms_are_shared_is_built_once() -> None:
    """Within `shared_terms()`, the same operation on the same operands gives the very same term
    object, equal to what Z3 builds; different operations or operand orders stay apart; a
    nested block shares the outer cache, which is gone once the outer block closes; a build
    that Z3 refuses raises each time and caches nothing."""
    from model.logic import Data, Grain, eq, not_, shared_terms

    arr, g = z3.Array("arr", Grain, Data), z3.Const("g", Grain)
    c, x, y, n = z3.Bool("c"), z3.Bool("x"), z3.Bool("y"), z3.Int("n")
    d = z3.Const("d", Data)
    builds = {
        "select": lambda: select(arr, g),
        "store": lambda: store(arr, g, d),
        "ite": lambda: ite(c, x, y),
        "ite swapped": lambda: ite(c, y, x),
        "eq": lambda: eq(n, 2),
        "not": lambda: not_(x),
        "and": lambda: and_(x, y, c),
        "or": lambda: or_(x, y, c),
    }
    with shared_terms():
        first = {name: build() for name, build in builds.items()}
        with shared_terms():
            again = {name: build() for name, build in builds.items()}
        assert all(again[name] is first[name] for name in builds)
        assert len({id(t) for t in first.values()}) == len(builds)
        for _ in range(2):
            with pytest.raises(z3.Z3Exception):
                store(arr, g, n)
    after = {name: build() for name, build in builds.items()}
    assert all(after[name] is not first[name] for name in builds)
    assert all(after[name].eq(first[name]) for name in builds)
    assert first["and"].eq(z3.And(x, y, c)) and first["ite swapped"].eq(z3.If(c, y, x))


def test_ite_on_symbols_is_z3_if() -> None:
    """The direct API call `ite` makes is the If-then-else Z3 itself would build."""
    c, a, b, x = z3.Bool("c"), z3.Int("a"), z3.Int("b"), z3.Bool("x")
    cases = ((a, b), (a, 3), (2, b), (a, a), (2, 3), (x, True), (False, True), (a, x))
    for then, other in cases:
        got = ite(c, then, other)
        s = z3.Solver()
        s.add(got != z3.If(c, then, other))
        assert s.check() == z3.unsat


def test_a_symbolic_state_gives_every_array_its_own_constant() -> None:
    """Proofs quantify over every content of every volume: no two arrays may be one constant
    (that would prove claims only about volumes that hold the same data)."""
    from model.shape import MapInfo, Shape
    from model.state import symbolic_state

    shape = Shape(("A", "B", "C")).with_map("B", MapInfo("A", "clone", incremental=True))
    shape = shape.with_map("C", MapInfo("A", "snapshot", incremental=True))
    st = symbolic_state(shape, "t", lost=frozenset({"C"}))
    arrays = [*st.phys.values(), *st.split.values(), *st.diff.values(), *st.ref.values()]
    assert len(arrays) == 3 + 2 + 2 + 2
    assert len({a.get_id() for a in arrays}) == len(arrays)


BITS = st.dictionaries(INDEX, st.booleans(), max_size=4)


@settings(max_examples=100, deadline=None)
@given(a=BITS, b=BITS, da=st.booleans(), db=st.booleans())
def test_and_not_on_plain_bitmaps_is_elementwise(a: dict, b: dict, da: bool, db: bool) -> None:
    """An incremental restart keeps `split and not diff`, grain by grain, defaults included."""
    from model.logic import and_not

    got = and_not(GrainArray(a, default=da), GrainArray(b, default=db))
    for i in range(6):
        assert got[i] == (a.get(i, da) and not b.get(i, db)), i


def test_a_state_evolves_into_a_new_one_with_only_the_named_parts_changed() -> None:
    """`State.evolve` (the rules' way to make the next state): the named parts replaced, the
    rest carried over, nothing read of the new state yet, the old state untouched; a part a
    state does not have is refused by name."""
    from model.shape import Shape
    from model.state import Copy, State

    shape = Shape(("S", "T"))
    old = State(shape, {"S": 1}, {}, {}, {"S": 1}, ())
    old.memo["read"] = "cached"
    copy = Copy("cow", "T", 0, True, "snapshot")
    new = old.evolve(phys={"S": 2}, copies=(copy,))
    assert new == State(shape, {"S": 2}, {}, {}, {"S": 1}, (copy,))
    assert new.memo == {} and old.memo == {"read": "cached"}
    assert old.phys == {"S": 1} and old.copies == ()
    with pytest.raises(TypeError, match="no part"):
        old.evolve(memo={})
    with pytest.raises(TypeError, match="no part"):
        old.evolve(images={})
