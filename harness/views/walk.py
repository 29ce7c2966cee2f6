"""Walking a trace step by step and recording what a learner needs to see after each step.

After every operation: the cascades, every map's state, which grains each volume physically
holds, and for every grain of every volume where a read is served from. Reads are resolved with
the specification's own read rule (`model.rules.Spec.resolve`) on the state rebuilt from the
implementation's internals, so the pictures show the rule, not a re-implementation of it.
The implementation must expose internals (the reference engine and its mutants do).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from model.rules import Spec

from ..core.stepcheck import MapDef, build_state
from ..drivers import Driver, DriverError
from ..trace import Trace, replay


@dataclass
class MapView:
    """A map as the pictures show it."""

    name: str
    source: str
    target: str
    type: str
    state: str
    progress: int


@dataclass
class Snapshot:
    """The system after one step."""

    index: int
    line: int
    request: dict[str, Any]
    answer: dict[str, Any]
    problem: str | None
    cascades: list[dict[str, Any]] = field(default_factory=list)
    maps: dict[str, MapView] = field(default_factory=dict)
    held: dict[str, list[bool]] = field(default_factory=dict)  # volume -> grain held physically
    served: dict[str, list[str]] = field(default_factory=dict)  # volume -> grain -> from volume
    offline: set[str] = field(default_factory=set)
    lines: list[str] = field(default_factory=list)  # the step in words


def walk(trace: Trace, driver: Driver, policy: str | None = None) -> list[Snapshot]:
    """Replay the trace and take a snapshot after every operation."""
    spec = Spec(policy or trace.policy)
    out: list[Snapshot] = []
    previous: Snapshot | None = None
    for step in replay(trace, driver, policy):
        snap = Snapshot(step.index, step.line, step.request, step.answer, step.problem)
        _observe(driver, spec, snap)
        snap.lines = describe(snap, previous)
        out.append(snap)
        previous = snap
    return out


def _observe(driver: Driver, spec: Spec, snap: Snapshot) -> None:
    internals = driver.request({"op": "internals"})
    if not internals.get("ok"):
        raise DriverError("unavailable", "the pictures need an implementation exposing internals")
    snap.cascades = internals["cascades"]
    defs: dict[str, MapDef] = {}
    states: dict[str, str] = {}
    for order, name in enumerate(internals["maps"]):
        a = driver.request({"op": "status", "map": name})
        if not a.get("ok"):
            continue
        snap.maps[name] = MapView(
            name, a["source"], a["target"], a["type"], a["state"], a["progress"]
        )
        defs[name] = MapDef.from_status(name, a, order)
        states[name] = a["state"]
    st = build_state(internals, defs, states)
    for volume in st.shape.volumes:
        grains = sorted(st.phys[volume])
        node = st.shape.position(volume)
        if node is None:
            snap.held[volume] = [True] * len(grains)
            snap.served[volume] = [volume] * len(grains)
        else:
            snap.held[volume] = [bool(st.split[volume][g]) for g in grains]
            snap.served[volume] = [
                st.shape.volumes[spec.resolve(st, node, g).holder] for g in grains
            ]
        read = driver.request({"op": "read", "volume": volume, "block": 0, "count": 1})
        if not read.get("ok") and read.get("error") == "offline":
            snap.offline.add(volume)


def _blocks(request: dict[str, Any]) -> str:
    n = len(request["data"])
    first = request["block"]
    return f"block {first}" if n == 1 else f"blocks {first}-{first + n - 1}"


def describe(snap: Snapshot, before: Snapshot | None) -> list[str]:
    """The step in words: one line per effect."""
    r, a = snap.request, snap.answer
    head = f"{r['op']} " + " ".join(f"{k}={v}" for k, v in r.items() if k not in ("op", "expect"))
    if r["op"] == "write":
        head = f"write {r['volume']} {_blocks(r)}"
    if not a.get("ok"):
        return [f"{head}: refused ({a.get('error')}: {a.get('message', '')}); nothing changed"]
    lines = [head.strip()]
    for c in a.get("copies", []):
        why = {
            "cow": f"{c['to']} did not hold it and {c['from']}'s copy was about to change",
            "fill": f"a partial write: {c['to']} first takes the rest of the grain",
            "background": "background copy",
            "clean": f"cleaning: {c['to']} still needed it",
        }.get(c["kind"], c["kind"])
        readers = [
            v
            for v, served in snap.served.items()
            if v != c["to"] and c["grain"] < len(served) and served[c["grain"]] == c["to"]
        ]
        tail = (
            f"; {', '.join(readers)} read{'s' if len(readers) == 1 else ''} it through {c['to']}"
            if readers
            else ""
        )
        lines.append(f"  grain {c['grain']} copied {c['from']} -> {c['to']} ({why}){tail}")
    for e in a.get("events", []):
        lines.append(f"  map {e['map']}: {e['from']} -> {e['to']} ({e['cause']})")
    if before is not None:
        for volume in sorted(set(snap.offline) - before.offline):
            lines.append(f"  {volume} is offline: its copy stopped before it completed")
        old = {tuple(c["volumes"]) for c in before.cascades}
        for c in snap.cascades:
            if tuple(c["volumes"]) not in old:
                lines.append(f"  {c['type']} cascade now: {' -> '.join(c['volumes'])}")
    if snap.problem:
        lines.append(f"  EXPECTATION FAILED: {snap.problem}")
    return lines
