"""The shapes proofs cover: every shape n volumes can reach, and cascades of every length up to K.

Shapes are found by running the specification's own structural rules on a throwaway concrete
state, ignoring data preconditions, so the sets over-approximate what a real run reaches. Each
situation remembers the steps that built it, so a counterexample found at a shape can be
replayed from the empty system.
"""

from __future__ import annotations

import itertools
import random
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from model.logic import GrainArray
from model.rules import Spec
from model.shape import MapInfo, Shape
from model.state import State

from .steps import Step, apply, enabled, prune_shape, shape_before


@dataclass(frozen=True)
class Situation:
    """A shape, which volumes have no abstract image, and the steps that reach it."""

    shape: Shape
    lost: frozenset[str]
    path: tuple[Step, ...] = ()
    family: str = "reachable"


def _dummy(sit: Situation) -> State:
    shape = sit.shape
    const = GrainArray({}, default=("x",))
    return State(
        shape=shape,
        phys=dict.fromkeys(shape.volumes, const),
        split={t: GrainArray({}, default=False) for t, _ in shape.maps},
        diff={t: GrainArray({}, default=True) for t, m in shape.maps if m.incremental},
        ref={v: const for v in shape.volumes if v not in sit.lost},
    )


class RulesRaised(Exception):
    """The rules raised while a shape was being found: which step, from where, and what."""

    def __init__(self, sit: Situation, step: Step, err: Exception) -> None:
        path = "; ".join(s.label() for s in sit.path)
        super().__init__(f"{step.label()} after [{path}]: {err!r}")
        self.err = err


def after(spec: Spec, sit: Situation, step: Step) -> Situation:
    """The situation a structural step leads to (`RulesRaised` if the rules raise on it)."""
    shape = shape_before(sit.shape, step)
    try:
        st = apply(spec, _dummy(Situation(shape, sit.lost)), step)
    except Exception as err:
        raise RulesRaised(sit, step, err) from err
    lost = frozenset(v for v in shape.volumes if v not in st.ref)
    return Situation(prune_shape(st.shape), lost, (*sit.path, step), sit.family)


def _rename(sit: Situation, names: dict[str, str]) -> tuple:
    """The situation as plain tuples, volumes renamed (tuples compare and hash fast)."""
    s = sit.shape
    chains = tuple(
        (c.kind, names[c.head], c.head_mode, tuple(names[t] for t in c.targets)) for c in s.chains
    )
    maps = tuple(
        sorted(
            (names[t], names[m.source], m.type, m.incremental, m.copy_rate, m.order)
            for t, m in s.maps
        )
    )
    return (
        len(s.volumes),  # a shape of n volumes is no shape of n - 1 with a spare one
        chains,
        maps,
        tuple(sorted(names[v] for v in s.stopping)),
        tuple(sorted(names[v] for v in sit.lost)),
    )


def _roles(sit: Situation) -> dict[str, tuple]:
    """What renaming cannot change about each volume: where it sits in each cascade (cascades
    keep their order), the maps into and out of it (creation order included), whether it is
    stopping and whether it has lost its image."""
    s = sit.shape
    places: dict[str, list[tuple[int, int]]] = {v: [] for v in s.volumes}
    into: dict[str, list[tuple]] = {v: [] for v in s.volumes}
    out: dict[str, list[tuple]] = {v: [] for v in s.volumes}
    for i, c in enumerate(s.chains):
        for place, v in enumerate((c.head, *c.targets)):
            places[v].append((i, place))
    for t, m in s.maps:
        info = (m.type, m.incremental, m.copy_rate, m.order)
        into[t].append(info)
        out[m.source].append(info)
    return {
        v: (
            tuple(places[v]),
            tuple(sorted(into[v])),
            tuple(sorted(out[v])),
            v in s.stopping,
            v in sit.lost,
        )
        for v in s.volumes
    }


def canonical(sit: Situation) -> tuple:
    """The same key for situations equal up to renaming volumes: the least renamed form over
    the orders of the volumes sorted by role (`_roles`). Renaming keeps roles, so only volumes
    of equal role are tried both ways round — usually none: one order instead of n!."""
    vols = sit.shape.volumes
    names = tuple(sorted(vols))
    roles = _roles(sit)
    ranked = sorted(vols, key=roles.__getitem__)
    ties = [list(g) for _, g in itertools.groupby(ranked, key=roles.__getitem__)]
    return min(
        _rename(sit, dict(zip(itertools.chain.from_iterable(order), names, strict=True)))
        for order in itertools.product(*(itertools.permutations(t) for t in ties))
    )


def canonical_by_every_order(sit: Situation) -> tuple:
    """`canonical`'s plain definition — the least renamed form over all n! renamings — kept
    to test that the roles tried first lose no renaming (a different key, the same classes)."""
    vols = sit.shape.volumes
    return min(
        _rename(sit, dict(zip(vols, perm, strict=True))) for perm in itertools.permutations(vols)
    )


def empty(n: int) -> Situation:
    """n plain volumes, no maps."""
    return Situation(Shape(tuple(f"V{i}" for i in range(n))), frozenset())


def reachable(spec: Spec, n: int, limit: int = 200_000) -> list[Situation]:
    """Situations reachable from n plain volumes (each once, up to renaming), nearest first."""
    return list(iter_reachable(spec, n, limit))


def iter_reachable(spec: Spec, n: int, limit: int = 200_000) -> Iterator[Situation]:
    """`reachable`, each situation as soon as it is found (a check that stops at its first
    failure need not wait for the whole set)."""
    start = empty(n)
    seen = {canonical(start)}
    yield start
    found = 1
    queue = deque([start])
    while queue and found < limit:
        sit = queue.popleft()
        for step in enabled(spec, sit.shape, sit.lost):
            if step.data:
                continue
            nxt = after(spec, sit, step)
            key = canonical(nxt)
            if key not in seen and found < limit:
                seen.add(key)
                found += 1
                yield nxt
                queue.append(nxt)


def sampled(spec: Spec, n: int, count: int, seed: int = 0, depth: int = 10) -> list[Situation]:
    """Up to `count` distinct situations (up to renaming) that seeded random walks of up to
    `depth` structural steps reach from n plain volumes: a fixed, cheap sample of a set too
    large to enumerate every time (the exhaustive set is `reachable`)."""
    rng = random.Random(seed)
    seen = {canonical(empty(n))}
    out: list[Situation] = []
    for _ in range(count * 20):
        sit = replace(empty(n), family=f"sampled-{n}")
        for _ in range(rng.randint(1, depth)):
            steps = [st for st in enabled(spec, sit.shape, sit.lost) if not st.data]
            if not steps:
                break
            sit = after(spec, sit, rng.choice(steps))
        key = canonical(sit)
        if key not in seen:
            seen.add(key)
            out.append(sit)
            if len(out) == count:
                break
    return out


def sampled_beyond(spec: Spec, n: int, count: int) -> Iterator[Situation]:
    """Samples of the next three volume counts: `count` shapes of n+1 volumes, `count` // 4 of
    n+2 and `count` // 10 of n+3, the walks longer as there are more volumes to link (4 steps
    per volume, less 2): topologies no covered set of n volumes has, cheaply."""
    for extra, share in ((1, 1), (2, 4), (3, 10)):
        size = n + extra
        yield from sampled(spec, size, count // share, depth=4 * size - 2)


def _build(spec: Spec, n: int, family: str, steps: list[Step]) -> Situation:
    sit = replace(empty(n), family=family)
    for step in steps:
        sit = after(spec, sit, step)
    return sit


def chain_families(spec: Spec, k: int) -> Iterator[Situation]:
    """Cascades with k targets (plus one spare volume for starts): one source's snapshots,
    clones, alternating types, targets of targets, a cascade hanging off a clone (a cascade
    of cascades), the chain after a restore onto its source (and that source copied anew),
    a middle target stopping, and more where k allows."""
    n = k + 2
    v = [f"V{i}" for i in range(n)]

    def start(src: str, tgt: str, kind: str) -> Step:
        return Step("start", tgt, src, map_type=kind)

    for kind in ("snapshot", "clone"):
        yield _build(
            spec,
            n,
            f"{kind}s-of-one-source-{k}",
            [start(v[0], v[i], kind) for i in range(1, k + 1)],
        )
        yield _build(
            spec,
            n,
            f"{kind}s-of-targets-{k}",
            [start(v[i - 1], v[i], kind) for i in range(1, k + 1)],
        )
    kinds = ("snapshot", "clone")
    yield _build(
        spec,
        n,
        f"alternating-types-{k}",
        [start(v[0], v[i], kinds[i % 2]) for i in range(1, k + 1)],
    )
    yield _build(
        spec,
        n,
        f"cascade-of-cascades-{k}",
        [start(v[0], v[1], "clone")] + [start(v[1], v[i], "snapshot") for i in range(2, k + 1)],
    )
    chain = [start(v[0], v[i], "snapshot") for i in range(1, k + 1)]
    # restore from the oldest target: the newer ones read the source's frozen head
    yield _build(spec, n, f"restored-source-{k}", [*chain, start(v[1], v[0], "clone")])
    yield _build(spec, n, f"stopping-middle-{k}", [*chain, Step("stop", v[(k + 1) // 2])])
    # the restored source then copied anew: it heads a frozen cascade (its old readers) and an
    # image cascade (its image since the restore) at once, and only the frozen head's readers
    # may take its old grains
    yield _build(
        spec,
        n,
        f"restored-then-copied-{k}",
        [*chain, start(v[1], v[0], "clone"), start(v[0], v[k + 1], "snapshot")],
    )
    if k >= 2:
        # a middle target read by the next position and by a clone cascade its image heads:
        # a write to it has several direct readers in different cascades
        middle = v[(k + 1) // 2]
        yield _build(
            spec, n + 1, f"linked-from-middle-{k}", [*chain, start(middle, f"V{n}", "clone")]
        )
        # a source heading a cascade of each type, restored from one of them: two frozen
        # heads, each with readers to keep
        mixed = [start(v[0], v[i], kinds[i % 2]) for i in range(1, k + 1)]
        yield _build(spec, n, f"restored-both-types-{k}", [*mixed, start(v[1], v[0], "clone")])
        # a ring of restores: each of V1..Vk heads a frozen cascade read by the next, so a
        # preservation copy leads round the ring back to where it began
        ring = [start(v[i], v[i - 1], "snapshot") for i in range(1, k + 1)]
        ring += [start(v[0], v[k], "snapshot"), Step("leave", v[0], complete=True)]
        yield _build(spec, n, f"restore-ring-{k}", ring)
    if k >= 3:
        # two cascades, the head of the second restored from a target of the first: a frozen
        # head outside the first cascade, whose readers need copies when the restore copies
        beside = [start(v[0], v[1], "snapshot")]
        beside += [start(v[2], v[i], "snapshot") for i in range(3, k + 1)]
        yield _build(spec, n, f"restored-from-another-{k}", [*beside, start(v[1], v[2], "clone")])
        # a source restored again and again, copied anew while each restore runs: the cascade
        # each copy opened turns physical when that restore completes, so the last restore
        # freezes k heads (a clone cascade and k-1 snapshot cascades), each with readers
        again = [start(v[0], v[1], "snapshot"), start(v[0], v[2], "clone")]
        for i in range(3, k + 1):
            again += [start(v[2], v[0], "clone"), start(v[0], v[i], "snapshot")]
            again += [Step("leave", v[0], complete=True)]
        yield _build(spec, n, f"restored-many-heads-{k}", [*again, start(v[2], v[0], "clone")])


def _wide_group(size: int, seed: int) -> tuple:
    """A seeded group of `size` maps from two sources: types, rates (with ties) and creation
    orders drawn at random, so no count-limited ordering rule is right by the names' luck."""
    draw = random.Random(seed)
    orders = draw.sample(range(1, size + 1), size)
    members = tuple(
        (
            draw.choice(("snapshot", "clone")),
            draw.choice((10, 30, 50, 70, 90)),
            o,
            draw.choice((0, -1)),
        )
        for o in orders
    )
    return members, False


# (type, copy rate, creation order[, source]) of each map started together, named in this
# order, and whether they share one source (else the last copies the base's last online
# volume); a member's source, where given, is the index of one of the base's online volumes
GROUP_COMBOS = (
    ((("snapshot", 10, 1), ("snapshot", 90, 2)), True),
    ((("clone", 90, 1), ("clone", 10, 2)), True),
    ((("snapshot", 50, 1), ("snapshot", 50, 2)), True),  # equal rates: creation order decides
    ((("snapshot", 10, 1), ("clone", 90, 2)), True),
    ((("snapshot", 10, 1), ("clone", 90, 2)), False),
    # four from one source, created in another order than they are named: neither the order
    # they are named nor created in, nor any prefix of it sorted, is the copy-rate order, and
    # two tie (so creation order, not the name, decides between them)
    ((("snapshot", 50, 3), ("snapshot", 90, 1), ("snapshot", 10, 4), ("snapshot", 50, 2)), True),
    # six from two sources, three each, named alternately: more members than any subset of
    # `steps.GROUP_SIZES` takes, the first source's members not all named first, each
    # source's named out of rate order, two tying (creation order decides), and the slowest
    # of all (which joins first) named last
    (
        (
            ("snapshot", 50, 4, 0),
            ("snapshot", 90, 1, -1),
            ("snapshot", 50, 2, 0),
            ("snapshot", 30, 5, -1),
            ("snapshot", 70, 3, -1),
            ("snapshot", 10, 6, 0),
        ),
        False,
    ),
    *(_wide_group(size, seed) for size, seed in ((8, 1), (12, 2))),
)


GROUP_PAIRS = tuple(c for c in GROUP_COMBOS if len(c[0]) == 2)
GROUP_SMALL = tuple(c for c in GROUP_COMBOS if len(c[0]) <= 4)


def group_situations(
    bases: Iterable[Situation], combos: tuple = GROUP_COMBOS
) -> Iterator[Situation]:
    """Each base with more volumes and created, idle maps onto them, of every combination in
    `combos`, from the base's first (and last) online volumes: what a group start begins
    from (`steps.group_starts` enumerates the start itself, of every size)."""
    for base in bases:
        shape = base.shape
        online = [v for v in shape.volumes if v not in base.lost and v not in shape.stopping]
        if not online:
            continue
        for members, same in combos:
            news = [f"V{len(shape.volumes) + i}" for i in range(len(members))]
            grown = replace(shape, volumes=(*shape.volumes, *news))
            for i, (new, member) in enumerate(zip(news, members, strict=True)):
                map_type, rate, order = member[:3]
                last = i == len(members) - 1 and not same
                source = online[member[3]] if len(member) > 3 else online[-1 if last else 0]
                grown = grown.with_map(new, MapInfo(source, map_type, copy_rate=rate, order=order))
            kinds = "-".join(f"{m[0]}{m[1]}" for m in members)
            family = f"group-{kinds}-{'one' if same else 'two'}-source"
            yield Situation(grown, base.lost, base.path, family)


def family_situations(spec: Spec, bound: int) -> list[Situation]:
    """Every chain family for every cascade length 1..bound."""
    return [s for k in range(1, bound + 1) for s in chain_families(spec, k)]
