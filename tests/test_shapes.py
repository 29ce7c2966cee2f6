"""Canonical keys of shapes: the enumeration, the closure check and the samples all count shapes
"up to renaming" by `proofs.shapes.canonical`. It tries only the orders of volumes of equal role;
these tests hold it to its plain definition (the least form over all n! renamings): the same
situations must share a key, renamed or not."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import replace

import pytest

from model.rules import Spec
from model.shape import Chain, MapInfo, Shape
from proofs import shapes
from proofs.shapes import Situation, canonical, canonical_by_every_order, reachable, sampled


def renamed(sit: Situation, names: dict[str, str]) -> Situation:
    """The same situation with its volumes renamed (the volumes tuple kept in name order)."""
    s = sit.shape
    chains = tuple(
        Chain(c.kind, names[c.head], c.head_mode, tuple(names[t] for t in c.targets))
        for c in s.chains
    )
    maps = tuple(sorted((names[t], replace(m, source=names[m.source])) for t, m in s.maps))
    shape = Shape(
        tuple(sorted(names[v] for v in s.volumes)),
        chains,
        maps,
        frozenset(names[v] for v in s.stopping),
    )
    return Situation(shape, frozenset(names[v] for v in sit.lost), sit.path, sit.family)


def cases() -> list[Situation]:
    """Every shape two volumes reach, a sample of three and four, and a renamed copy of each."""
    spec = Spec()
    rng = random.Random(7)
    found = reachable(spec, 2) + sampled(spec, 3, 150) + sampled(spec, 4, 40, depth=14)
    found += [Situation(s, frozenset()) for s in tied()] * 4  # renamed four ways each
    out = []
    for sit in found:
        vols = list(sit.shape.volumes)
        out += [sit, renamed(sit, dict(zip(vols, rng.sample(vols, len(vols)), strict=True)))]
    return out


def tied() -> list[Shape]:
    """Shapes whose volumes no role tells apart: two idle maps of one kind between four
    volumes (V0 and V2 alike, V1 and V3 alike), and the same with one of them started."""
    vols = ("V0", "V1", "V2", "V3")
    two = (
        Shape(vols)
        .with_map("V1", MapInfo("V0", "snapshot"))
        .with_map("V3", MapInfo("V2", "snapshot"))
    )
    return [two, two.insert_after(None, "V0", "V1", "snapshot")]


def disagreements(situations: list[Situation], key: Callable[[Situation], tuple]) -> int:
    """Pairs that `key` calls the same shape and every renaming does not, or the other way round;
    and shapes whose renamed copy `key` calls another shape."""
    fast = [key(s) for s in situations]
    plain = [canonical_by_every_order(s) for s in situations]
    pairs = sum(
        (fast[i] == fast[j]) != (plain[i] == plain[j])
        for i, j in itertools.combinations(range(len(situations)), 2)
    )
    return pairs + sum(fast[i] != fast[i + 1] for i in range(0, len(situations), 2))


def test_keys_by_role_split_shapes_as_every_renaming_does() -> None:
    situations = cases()
    assert disagreements(situations, canonical) == 0
    assert len({canonical(s) for s in situations}) > 300  # and the shapes are not all one


def named_roles(sit: Situation) -> tuple:
    """Seeded bug: a role that holds the volume's name, so renaming changes it."""
    roles = {v: (v, *r) for v, r in shapes._roles(sit).items()}
    vols = sit.shape.volumes
    ranked = sorted(vols, key=roles.__getitem__)
    return shapes._rename(sit, dict(zip(ranked, sorted(vols), strict=True)))


def ties_tried_one_way(sit: Situation) -> tuple:
    """Seeded bug: volumes of equal role taken in one order only, not every order."""
    roles = shapes._roles(sit)
    vols = sit.shape.volumes
    ranked = sorted(vols, key=roles.__getitem__)
    return shapes._rename(sit, dict(zip(ranked, sorted(vols), strict=True)))


@pytest.mark.parametrize("wrong", [named_roles, ties_tried_one_way])
def test_a_key_that_renaming_can_change_is_caught(wrong: Callable[[Situation], tuple]) -> None:
    """The check above catches a seeded bug in the key."""
    assert disagreements(cases(), wrong) > 0
