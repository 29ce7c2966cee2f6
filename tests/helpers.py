"""Shared helpers for driving the reference engine in tests."""

from __future__ import annotations

import json
from typing import Any

from reference import Engine


def ok(engine: Engine, op: str, **fields: Any) -> dict[str, Any]:
    """Send an operation that must be accepted; return its answer."""
    answer = engine.handle({"op": op, **fields})
    assert answer["ok"], (op, fields, answer)
    return answer


def refused(engine: Engine, code: str, op: str, **fields: Any) -> dict[str, Any]:
    """Send an operation that must be refused with `code`."""
    answer = engine.handle({"op": op, **fields})
    assert not answer["ok"] and answer["error"] == code, (op, fields, answer)
    assert isinstance(answer["message"], str) and answer["message"]
    return answer


def read(engine: Engine, volume: str) -> list[str]:
    """A volume's whole image."""
    size = len(engine.phys[volume])
    return ok(engine, "read", volume=volume, block=0, count=size)["data"]


def volumes(engine: Engine, size: int, *names: str) -> None:
    """Create volumes of one size."""
    for name in names:
        ok(engine, "create_volume", volume=name, size=size)


def fill(engine: Engine, volume: str, prefix: str) -> list[str]:
    """Write every block of a volume with distinct tokens; return them."""
    data = [f"{prefix}{i}" for i in range(len(engine.phys[volume]))]
    ok(engine, "write", volume=volume, block=0, data=data)
    return data


def snap(engine: Engine, name: str, source: str, target: str, **extra: Any) -> None:
    """Create and start a snapshot map."""
    ok(engine, "create_map", map=name, source=source, target=target, type="snapshot", **extra)
    ok(engine, "start", map=name)


def clone(
    engine: Engine, name: str, source: str, target: str, rate: int = 50, **extra: Any
) -> None:
    """Create and start a clone map."""
    ok(
        engine,
        "create_map",
        map=name,
        source=source,
        target=target,
        type="clone",
        copy_rate=rate,
        **extra,
    )
    ok(engine, "start", map=name)


def chain(engine: Engine) -> list[list[str]]:
    """Each cascade as its list of volumes."""
    return [c["volumes"] for c in ok(engine, "cascades")["cascades"]]


def copies(answer: dict[str, Any]) -> list[tuple[str, int, str, str]]:
    """An answer's grain copies as (kind, grain, from, to)."""
    return [(c["kind"], c["grain"], c["from"], c["to"]) for c in answer["copies"]]


def fingerprint(engine: Engine) -> str:
    """Everything an engine holds, canonically: equal fingerprints mean nothing changed."""
    topo = engine.topology
    nodes = sorted((n, tuple(sorted(a.items()))) for n, a in topo.graph.nodes(data=True))
    edges = sorted((u, v, d["kind"]) for u, v, d in topo.graph.edges(data=True))
    maps = {
        name: {k: (bytes(v).hex() if isinstance(v, bytearray) else v) for k, v in vars(m).items()}
        for name, m in engine.maps.items()
    }
    return json.dumps(
        {
            "phys": engine.phys,
            "maps": maps,
            "groups": sorted(engine.groups),
            "nodes": nodes,
            "edges": edges,
            "types": sorted(topo.cascade_type.items()),
            "heads": sorted(topo.cascade_head.items()),
            "primary": sorted(topo.primary.items()),
            "mapping": sorted(engine.mapping.edges(data="map")),
            "policy": engine.policy,
            "grain_size": engine.grain_size,
        },
        sort_keys=True,
        default=str,
    )
