"""`stop` on the real engines: the copy halts in the engine, the target is offline until its
map starts again or is deleted with force, and the harness catches a driver that gets it wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.campaign import Plan, run_campaign
from harness.drivers import Driver, open_driver
from harness.drivers.image_engine import ImageEngine
from harness.drivers.qemu_offline import QemuOffline

from .test_engines import ALL, _do, _image, _open


def _refused(d: Driver, code: str, op: str, **fields: Any) -> None:
    answer = d.request({"op": op, **fields})
    assert not answer["ok"] and answer["error"] == code, (op, fields, answer)
    assert answer["message"]


@pytest.mark.parametrize("engine", ALL, indirect=True)
def test_a_stopped_target_is_offline_until_restarted_or_deleted_with_force(
    engine: Driver,
) -> None:
    for v in ("S", "T", "U", "W"):
        _do(engine, "create_volume", volume=v, size=4)
    _do(engine, "write", volume="S", block=0, data=["a", "b", "c", "d"])
    _do(engine, "create_map", map="st", source="S", target="T", copy_rate=50)
    _do(engine, "create_map", map="tw", source="T", target="W", copy_rate=50)
    _do(engine, "create_map", map="su", source="S", target="U", type="snapshot")
    _do(engine, "start", map="st")
    _do(engine, "start", map="su")
    _do(engine, "write", volume="S", block=0, data=["A"])
    assert _do(engine, "stop", map="st")["state"] == "stopped"
    assert _do(engine, "status", map="st")["state"] == "stopped"
    before = {v: _image(engine, v) for v in ("S", "U", "W")}
    _refused(engine, "offline", "read", volume="T", block=0, count=1)
    _refused(engine, "offline", "write", volume="T", block=0, data=["x"])
    _refused(engine, "offline", "start", map="tw")  # its source is offline
    _refused(engine, "bad_state", "stop", map="st")
    _refused(engine, "bad_state", "delete_map", map="st")  # a stopped map needs force
    _refused(engine, "unsupported", "stop", map="su", force=True)  # declared, with a reason
    _refused(engine, "bad_state", "stop", map="su", split=True)  # not complete
    assert {v: _image(engine, v) for v in ("S", "U", "W")} == before  # a refusal changes nothing
    assert _image(engine, "U") == ["a", "b", "c", "d"]  # the other copy is untouched

    assert _do(engine, "start", map="st")["state"] == "copying"  # a restart: online again
    assert _image(engine, "T") == ["A", "b", "c", "d"]
    _do(engine, "settle")
    assert _do(engine, "stop", map="st")["state"] == "idle_or_copied"  # complete: a no-op
    assert _do(engine, "stop", map="st", split=True)["state"] == "idle_or_copied"
    assert _image(engine, "T") == ["A", "b", "c", "d"]

    _do(engine, "create_group", group="g")
    assert _do(engine, "stop", map="su")["state"] == "stopped"
    _do(engine, "delete_map", map="su", force=True)
    _do(engine, "create_map", map="su", source="S", target="U", type="snapshot", group="g")
    _do(engine, "start_group", group="g")
    _do(engine, "stop_group", group="g")
    _refused(engine, "bad_state", "stop_group", group="g")  # nothing running
    _refused(engine, "offline", "read", volume="U", block=0, count=1)
    _do(engine, "delete_map", map="su", force=True)
    assert len(_image(engine, "U")) == 4  # online, with whatever it holds
    _do(engine, "write", volume="U", block=0, data=["u"])
    assert _image(engine, "U")[0] == "u"
    assert _image(engine, "S") == ["A", "b", "c", "d"]


def _query(impl: Any, command: str) -> Any:
    return impl.qsd.cmd(command, **({"flat": True} if command == "query-named-block-nodes" else {}))


def _no_garbage(impl: Any) -> None:
    """QEMU holds exactly the driver's nodes, runs no job, and holds no stray bitmap."""
    nodes = _query(impl, "query-named-block-nodes")
    assert {n["node-name"] for n in nodes if n["node-name"].startswith("n")} == set(
        impl.tree.graph.nodes
    )
    assert not _query(impl, "query-block-jobs")
    records = {r.bitmap for r in impl.bitmaps.records.values()}
    assert {b["name"] for n in nodes for b in n.get("dirty-bitmaps", [])} <= records


def test_qemu_live_stop_cancels_the_running_job_and_takes_the_export_away() -> None:
    """A clone stopped while QEMU streams into it: the job is cancelled (what it copied
    stays, the rest is still read through the frozen node), the NBD export is gone, and a
    restart or a forced delete brings the volume back. An incremental restart stopped in the
    middle of its backup job drops the refresh and leaves no node or bitmap behind."""
    d = _open("qemu-live")
    impl: Any = d.impl  # type: ignore[attr-defined]
    try:
        _do(d, "reset", grain_size=2)
        size = 256  # 128 grains
        for v in ("S", "T"):
            _do(d, "create_volume", volume=v, size=size)
        image = [f"s{i}" for i in range(size)]
        _do(d, "write", volume="S", block=0, data=image)
        _do(d, "create_map", map="st", source="S", target="T", copy_rate=50, incremental=True)
        _do(d, "start", map="st")
        _do(d, "write", volume="T", block=2, data=["t2"])  # T's own cluster splits the stream
        _do(d, "copy", map="st", grains=1)  # a stream job: one cluster, then a pause
        (job,) = _query(impl, "query-block-jobs")
        assert job["type"] == "stream" and job["offset"] < job["len"]
        assert _do(d, "stop", map="st")["state"] == "stopped"
        assert "T" not in impl.qsd.volumes  # QEMU serves no I/O to it
        assert impl.tree.backing(impl.tree.top["T"]) is not None  # the copy did not finish
        _no_garbage(impl)

        changed = ["c0", "c1", "c2", "c3"]  # two grains: 1 %
        _do(d, "write", volume="S", block=0, data=changed)
        assert _do(d, "status", map="st")["difference"] > 0  # the record survives the stop
        assert _do(d, "start", map="st")["state"] == "copying"  # an incremental restart
        assert _do(d, "read", volume="T", block=0, count=size)["data"] == [*changed, *image[4:]]
        _do(d, "copy", map="st", grains=1)  # the backup job of the recorded grains
        assert [j["type"] for j in _query(impl, "query-block-jobs")] == ["backup"]
        assert _do(d, "stop", map="st")["state"] == "stopped"
        assert not impl.refresh and not impl.tree.kept
        _no_garbage(impl)

        _do(d, "delete_map", map="st", force=True)
        assert len(_do(d, "read", volume="T", block=0, count=size)["data"]) == size
        _do(d, "write", volume="T", block=0, data=["t"])
        assert _do(d, "read", volume="T", block=0, count=1)["data"] == ["t"]
        _no_garbage(impl)
    finally:
        d.close()


class StopLeavesTargetOnline(QemuOffline):
    """Seeded bug: a stopped target still serves host I/O."""

    def _online(self, volume: str) -> None:
        pass


class StopKeepsCopying(QemuOffline):
    """Seeded bug: `stop` answers stopped but the map copies on (its state says copying)."""

    def _stop_map(self, m: Any) -> None:
        ImageEngine._stop_map(self, m)
        m.active, m.stopped = True, False


@pytest.mark.parametrize("bug", [StopLeavesTargetOnline, StopKeepsCopying])
def test_the_harness_catches_an_engine_driver_that_stops_wrongly(
    bug: type[QemuOffline], tmp_path: Path
) -> None:
    _open("qemu-offline").close()
    name = f"python:{__name__}:{bug.__name__}"
    plan = Plan(examples=40, steps=50, seed=3, database=tmp_path / "db", save_to=tmp_path / "cx")
    v = run_campaign(lambda: open_driver(name), plan)
    assert v.status == "nonconformance" and v.kind in ("accepted", "state"), (v.kind, v.problem)


def test_a_revived_target_holds_the_engines_values_and_they_are_still_checked() -> None:
    """A stopped target deleted with force holds "possibly inconsistent data": the engine's
    (here: its source's image at the start, read through the frozen node) and the
    specification engine's (nothing: no grain was ever copied) differ, and both are right.
    The session pins the engine's values, and a target later started from the revived volume
    takes them on; neither is an internal disagreement, and the pinned values hold from then
    on."""
    from harness.core import Hello, Session
    from harness.drivers import open_spec

    _open("qemu-offline").close()
    sut = open_driver("qemu-offline")
    try:
        s = Session(sut, open_spec(), Hello.parse(sut.request({"op": "hello"})))
        for v in ("S", "T", "U"):
            s.send({"op": "create_volume", "volume": v, "size": 2})
        s.send({"op": "write", "volume": "S", "block": 0, "data": ["a", "b"]})
        s.send({"op": "create_map", "map": "st", "source": "S", "target": "T", "type": "snapshot"})
        s.send({"op": "start", "map": "st"})
        assert s.send({"op": "stop", "map": "st"})["state"] == "stopped"
        s.send({"op": "delete_map", "map": "st", "force": True})
        assert s.send({"op": "read", "volume": "T", "block": 0, "count": 2})["data"] == ["a", "b"]
        assert s.spec.request({"op": "read", "volume": "T", "block": 0, "count": 2})["data"] == [
            "",
            "",
        ]  # the specification engine's own physical contents
        assert s.oracle.adopted == {"T"}
        s.send({"op": "create_map", "map": "tu", "source": "T", "target": "U", "type": "snapshot"})
        s.send({"op": "start", "map": "tu"})
        assert s.oracle.adopted == {"T", "U"}
        s.observe()  # every volume read and checked: no disagreement
        reads = [e for e in s.log if e.request["op"] == "read" and e.request["volume"] == "U"]
        assert reads[-1].expect == {"ok": True, "data": ["a", "b"]}  # pinned, then required
    finally:
        sut.close()
