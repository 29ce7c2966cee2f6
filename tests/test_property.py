"""Random operation sequences keep every online volume reading its abstract image."""

from __future__ import annotations

from typing import Any

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.core.oracle import Oracle
from model import machine
from reference import Engine

VOLUMES = ["A", "B", "C", "D"]
MAPS = [f"m{i}" for i in range(6)]
SIZE = 6

names = st.sampled_from(MAPS)
vols = st.sampled_from(VOLUMES)


@st.composite
def operations(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            ["write"] * 6
            + ["create_map"] * 2
            + ["start"] * 3
            + ["stop", "copy", "settle", "delete_map", "prepare", "start_group", "inject"]
        )
    )
    if kind == "write":
        block = draw(st.integers(0, SIZE - 1))
        n = draw(st.integers(1, SIZE - block))
        token = draw(st.integers(0, 999))
        return {
            "op": "write",
            "volume": draw(vols),
            "block": block,
            "data": [f"w{token}.{i}" for i in range(n)],
        }
    if kind == "create_map":
        source, target = draw(st.lists(vols, min_size=2, max_size=2, unique=True))
        op: dict[str, Any] = {
            "op": "create_map",
            "map": draw(names),
            "source": source,
            "target": target,
            "copy_rate": draw(st.sampled_from([0, 10, 80])),
            "incremental": draw(st.booleans()),
        }
        if draw(st.booleans()):
            op["group"] = "g"
        return op
    if kind in ("start", "prepare"):
        return {"op": kind, "map": draw(names), "restore": draw(st.booleans())}
    if kind == "stop":
        return {"op": "stop", "map": draw(names), "force": draw(st.booleans())}
    if kind == "copy":
        return {"op": "copy", "map": draw(names), "grains": draw(st.integers(1, 3))}
    if kind == "delete_map":
        return {"op": "delete_map", "map": draw(names), "force": draw(st.booleans())}
    if kind == "start_group":
        return {"op": "start_group", "group": "g", "restore": draw(st.booleans())}
    if kind == "inject":
        return {
            "op": "inject",
            "map": draw(names),
            "event": draw(st.sampled_from(["bitmap_offline", "bitmap_online", "io_error"])),
        }
    return {"op": "settle"}


def _check(engine: Engine, oracle: Oracle) -> None:
    offline = oracle.offline()
    for volume in oracle.volumes():
        answer = engine.handle({"op": "read", "volume": volume, "block": 0, "count": SIZE})
        if volume in offline:
            assert answer.get("error") == "offline", (volume, answer)
            continue
        assert answer["ok"], (volume, answer)
        oracle.model.pin(volume, answer["data"])
        assert answer["data"] == oracle.model.expected(volume), volume


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    policy=st.sampled_from(["per-type", "mixed"]),
    grain_size=st.sampled_from([1, 2, 3]),
    ops=st.lists(operations(), min_size=1, max_size=40),
)
def test_random_sequences_keep_every_image(
    policy: str, grain_size: int, ops: list[dict[str, Any]]
) -> None:
    engine, oracle = Engine(grain_size, policy), Oracle(grain_size)
    for op in (
        [{"op": "create_volume", "volume": v, "size": SIZE} for v in VOLUMES]
        + [{"op": "create_group", "group": "g"}]
        + ops
    ):
        answer = engine.handle(op)
        if not answer["ok"]:
            continue
        for ev in answer.get("events", []):
            assert machine.legal((ev["from"], ev["cause"], ev["to"])), ev
        oracle.accepted(op, answer.get("events", []))
        for name, m in engine.maps.items():
            oracle.progress(name, m.progress)
        _check(engine, oracle)
        graph = engine.topology.graph  # reads walk up a forest: no cycles, one upstream each
        assert not graph or nx.is_branching(graph)
