"""The qemu-offline driver: QEMU's qcow2 chains, a real engine, through the vocabulary."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from harness.drivers import DriverError, open_driver

REQUIRED = os.environ.get("CASCADECHECK_REQUIRE_TOOLS") == "1"


@pytest.fixture
def qemu() -> None:
    if shutil.which("qemu-io") is None or shutil.which("qemu-img") is None:
        if REQUIRED:
            pytest.fail("qemu-utils is required (apt-get install qemu-utils)")
        pytest.skip("qemu-utils not installed (apt-get install qemu-utils)")


def test_point_in_time_on_qcow2_chains(qemu: None) -> None:
    with open_driver("qemu-offline") as d:
        hello = d.request({"op": "hello"})
        assert hello["exposes"] == ["images", "states"] and "stop.force" in hello["unsupported"]
        assert hello["pace"] == "own" and "dependency_states" in hello["unsupported"]
        ok = [
            d.request(op)["ok"]
            for op in (
                {"op": "reset", "grain_size": 2},
                {"op": "create_volume", "volume": "S", "size": 4},
                {"op": "create_volume", "volume": "T", "size": 4},
                {"op": "write", "volume": "S", "block": 0, "data": ["a", "b", "c", "d"]},
                {"op": "create_map", "map": "m", "source": "S", "target": "T", "type": "snapshot"},
                {"op": "start", "map": "m"},
                {"op": "write", "volume": "S", "block": 1, "data": ["x"]},
            )
        ]
        assert all(ok)
        assert d.request({"op": "read", "volume": "T", "block": 0, "count": 4})["data"] == [
            "a",
            "b",
            "c",
            "d",
        ]
        assert d.request({"op": "read", "volume": "S", "block": 0, "count": 4})["data"] == [
            "a",
            "x",
            "c",
            "d",
        ]
        assert d.request({"op": "start", "map": "m"})["error"] == "bad_state"
        assert d.request({"op": "read", "volume": "T", "block": 3, "count": 2})["error"] == (
            "out_of_range"
        )
        folder = d.impl.dir  # type: ignore[attr-defined]
        proc = d.impl.io.proc  # type: ignore[attr-defined]
    assert not Path(folder).exists() and proc.poll() is not None  # files and process gone


def test_unavailable_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _: None)
    with pytest.raises(DriverError) as err:
        open_driver("qemu-offline")
    assert err.value.verdict == "unavailable" and "qemu-utils" in str(err.value)
