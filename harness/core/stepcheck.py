"""The Z3 encoding's transition functions, evaluated concretely on an implementation's step.

For an implementation that exposes its internals (cascades, bitmaps, physical grains), the
harness rebuilds the specification's state (`model.state.State`) from what it reported before
an operation, runs the same rule functions the proofs use (`model.rules.Spec`) on plain values,
and compares the prediction with what the implementation did: the grain copies it reported and
the grains and bitmaps it shows afterwards. A step the rules do not allow is a nonconformance,
even when every image still reads right. It also checks the proved bound on copies per write.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from model.invariant import incremental_agreement
from model.logic import BlockPatch, GrainArray
from model.rules import Spec
from model.shape import Chain, MapInfo, Shape
from model.state import State


@dataclass(frozen=True)
class MapDef:
    """What the harness knows of a map from its status answers."""

    name: str
    source: str
    target: str
    type: str
    incremental: bool
    copy_rate: int
    order: int

    @classmethod
    def from_status(cls, name: str, status: dict[str, Any], order: int) -> MapDef:
        """A map as a `status` answer describes it."""
        return cls(
            name,
            status["source"],
            status["target"],
            status["type"],
            bool(status.get("incremental")),
            status["copy_rate"],
            order,
        )


def build_state(
    internals: dict[str, Any],
    maps: dict[str, MapDef],
    states: dict[str, str],
    images: dict[str, Any] | None = None,
    grains: list[int] | None = None,
) -> State:
    """The specification's state from an implementation's internals: of every grain, or of the
    `grains` asked for (bitmaps then list those grains, in that order)."""

    def indexed(bits: str) -> GrainArray:
        order = grains if grains is not None and len(grains) == len(bits) else range(len(bits))
        return GrainArray({g: b == "1" for g, b in zip(order, bits, strict=True)})

    chains = tuple(
        Chain(c["type"], c["volumes"][0], c["head_mode"], tuple(c["volumes"][1:]))
        for c in internals["cascades"]
    )
    by_name = {m.name: m for m in maps.values()}
    infos: dict[str, MapInfo] = {}
    split: dict[str, GrainArray] = {}
    diff: dict[str, GrainArray] = {}
    for name, bits in internals["maps"].items():
        m = by_name.get(name)
        if m is None:
            continue
        active = any(name in c["maps"] for c in internals["cascades"])
        if not active and not m.incremental:
            continue
        infos[m.target] = MapInfo(m.source, m.type, m.incremental, m.copy_rate, m.order)
        split[m.target] = indexed(bits["split"])
        if m.incremental:
            diff[m.target] = indexed(bits["diff"])
    stopping = frozenset(
        by_name[n].target for n, s in states.items() if s == "stopping" and n in by_name
    )
    volumes = tuple(sorted(internals["phys"]))
    shape = Shape(volumes, chains, tuple(sorted(infos.items())), stopping)
    phys = {
        v: GrainArray({int(g): tuple(b) for g, b in grains.items()})
        for v, grains in internals["phys"].items()
    }
    return State(shape, phys, split, diff, images if images is not None else dict(phys))


def _moves(st: State, grain: int) -> Counter[tuple[str, int, str, str]]:
    volumes = st.shape.volumes
    return Counter((c.kind, grain, volumes[c.holder], c.target) for c in st.copies if c.condition)


def _reported(answer: dict[str, Any]) -> Counter[tuple[str, int, str, str]]:
    return Counter((c["kind"], c["grain"], c["from"], c["to"]) for c in answer.get("copies", []))


def _as_answer(c: Counter[tuple[str, int, str, str]]) -> list[dict[str, Any]]:
    return [{"kind": k, "grain": g, "from": a, "to": b} for (k, g, a, b) in sorted(c.elements())]


def _show(c: Counter[tuple[str, int, str, str]]) -> str:
    return ", ".join(f"{k} g{g} {a}->{b}" for (k, g, a, b) in sorted(c.elements())) or "none"


class StepCheck:
    """Predicts writes, starts and background steps with the specification's rules."""

    def __init__(self, policy: str) -> None:
        self.spec = Spec(policy)
        self.predicted: list[dict[str, Any]] | None = None  # copies of the last failed step

    def write(
        self, before: State, op: dict[str, Any], answer: dict[str, Any], grain_size: int
    ) -> str | None:
        """Copies of a host write: exactly those the write rule makes, within the bound."""
        volume, block, data = op["volume"], op["block"], op["data"]
        by_grain: dict[int, list[tuple[int, str]]] = {}
        for i, token in enumerate(data):
            b = block + i
            by_grain.setdefault(b // grain_size, []).append((b % grain_size, token))
        st, predicted = before, Counter[tuple[str, int, str, str]]()
        bound = self.spec.write_bound(before.shape, volume)
        for grain, blocks in by_grain.items():
            width = len(st.phys[volume][grain])
            whole = len(blocks) == width
            payload: Any = (
                tuple(t for _, t in sorted(blocks)) if whole else BlockPatch(tuple(blocks))
            )
            st = self.spec.host_write(st.evolve(copies=()), volume, grain, payload, whole)
            moves = _moves(st, grain)
            if sum(moves.values()) > bound:
                return f"the write rule itself exceeded the bound at grain {grain}: {_show(moves)}"
            predicted += moves
        reported = _reported(answer)
        for grain in by_grain:
            count = sum(n for (_, g, _, _), n in reported.items() if g == grain)
            if count > bound:
                return (
                    f"write to {volume} grain {grain} made {count} grain copies; the proved "
                    f"bound (positions a write can reach) is {bound}"
                )
        if predicted != reported:
            self.predicted = _as_answer(predicted)
            return (
                f"write to {volume}: the write rule makes [{_show(predicted)}], "
                f"the implementation reported [{_show(reported)}]"
            )
        return None

    def start(self, before: State, m: MapDef, after_cascades: list[dict[str, Any]]) -> str | None:
        """Cascades after a single start: the target directly after its source."""
        target = m.target
        info = MapInfo(m.source, m.type, m.incremental, m.copy_rate, m.order)
        split = dict(before.split)
        split.setdefault(target, GrainArray({}, default=False))
        diff = dict(before.diff)
        if m.incremental:
            diff.setdefault(target, GrainArray({}, default=True))
        before = before.evolve(shape=before.shape.with_map(target, info), split=split, diff=diff)
        predicted = self.spec.start(before, [target]).shape
        want = sorted((c.kind, c.head, c.head_mode, c.targets) for c in predicted.chains)
        got = sorted(
            (c["type"], c["volumes"][0], c["head_mode"], tuple(c["volumes"][1:]))
            for c in after_cascades
        )
        if want != got:
            return f"start of {target}: the insertion rule gives {want}, the implementation {got}"
        return None

    def background(self, before: State, target: str, answer: dict[str, Any]) -> str | None:
        """Each grain a copy step reports is one the background-copy or clean rule copies."""
        reported = _reported(answer)
        st = before
        predicted = Counter[tuple[str, int, str, str]]()
        for grain in sorted({g for (_, g, _, _) in reported}):
            st = st.evolve(copies=())
            if target in st.shape.stopping or not any(
                k == "background" for (k, g2, _, _) in reported if g2 == grain
            ):
                st = self.spec.clean_grain(st, target, grain)
            else:
                st = self.spec.background_copy(st, target, grain)
            predicted += _moves(st, grain)
        if predicted != reported:
            self.predicted = _as_answer(predicted)
            return (
                f"copy step of {target}: the rules make [{_show(predicted)}], the "
                f"implementation reported [{_show(reported)}]"
            )
        return None

    def invariant(self, after: State) -> str | None:
        """Incremental maps: unchanged grains still agree with their source."""
        arrays = [set(a) for a in after.phys.values()]
        for grain in sorted(set.intersection(*arrays) if arrays else set()):
            if not incremental_agreement(after, grain):
                return f"incremental agreement broken at grain {grain}"
        return None
