"""The engine's mapping state machine against the table in model/machine.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from model import machine
from reference import Engine

from .helpers import fill, fingerprint, ok, snap, volumes


def _cascade() -> Engine:
    """S -> T3 -> T2 -> T1 (snapshots); T1 reads grain 1 through T2; K is an idle clone map."""
    e = Engine(grain_size=2)
    volumes(e, 6, "S", "T1", "T2", "T3", "K")
    fill(e, "S", "a")
    snap(e, "m1", "S", "T1")
    ok(e, "write", volume="S", block=0, data=["b0", "b1"])
    snap(e, "m2", "S", "T2")
    ok(e, "write", volume="S", block=2, data=["c2", "c3"])
    snap(e, "m3", "S", "T3")
    ok(e, "create_map", map="k", source="S", target="K", copy_rate=50)
    return e


def _state(state: str) -> tuple[Engine, str]:
    """An engine with a map (returned by name) in the given state."""
    e = _cascade()
    if state == machine.IDLE:
        return e, "k"
    if state == machine.PREPARING:
        ok(e, "prepare", map="k")
        return e, "k"
    if state == machine.PREPARED:
        ok(e, "prepare", map="k")
        ok(e, "copy", map="k")
        return e, "k"
    if state == machine.COPYING:
        return e, "m2"
    if state == machine.STOPPING:
        assert ok(e, "stop", map="m2")["state"] == "stopping"
        return e, "m2"
    if state == machine.STOPPED:
        ok(e, "stop", map="m2", force=True)
        return e, "m2"
    assert state == machine.SUSPENDED
    ok(e, "inject", map="m2", event="bitmap_offline")
    return e, "m2"


COMMANDS: dict[str, Callable[[str], dict[str, Any]]] = {
    "prepare": lambda m: {"op": "prepare", "map": m},
    "start": lambda m: {"op": "start", "map": m},
    "stop": lambda m: {"op": "stop", "map": m},
    "stop_force": lambda m: {"op": "stop", "map": m, "force": True},
    "delete": lambda m: {"op": "delete_map", "map": m},
    "delete_force": lambda m: {"op": "delete_map", "map": m, "force": True},
    "copy": lambda m: {"op": "copy", "map": m},
    "flush_failed": lambda m: {"op": "inject", "map": m, "event": "flush_failed"},
    "bitmap_offline": lambda m: {"op": "inject", "map": m, "event": "bitmap_offline"},
    "bitmap_online": lambda m: {"op": "inject", "map": m, "event": "bitmap_online"},
    "io_error": lambda m: {"op": "inject", "map": m, "event": "io_error"},
}


@pytest.mark.parametrize("state", machine.STATES)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_in_every_state(state: str, command: str) -> None:
    e, name = _state(state)
    assert e.maps[name].state == state
    before = fingerprint(e)
    answer = e.handle(COMMANDS[command](name))
    if machine.accepts(command, state):
        assert answer["ok"], answer
        for ev in answer["events"]:
            assert machine.legal((ev["from"], ev["cause"], ev["to"])), ev
    else:
        assert answer["error"] == "bad_state", answer
        assert fingerprint(e) == before


def test_split_is_accepted_only_at_progress_100() -> None:
    e = Engine(grain_size=2, policy="mixed")
    volumes(e, 4, "S", "K", "T")
    snap(e, "t", "S", "T")
    ok(e, "create_map", map="k", source="S", target="K", copy_rate=50, clean_rate=0)
    ok(e, "start", map="k")
    assert e.handle({"op": "stop", "map": "k", "split": True})["error"] == "bad_state"
    ok(e, "copy", map="k", grains=2)
    answer = ok(e, "stop", map="k", split=True)
    assert [(ev["from"], ev["cause"], ev["to"]) for ev in answer["events"]] == [
        ("copying", "split", "idle_or_copied")
    ]


def test_stop_on_idle_is_a_no_op() -> None:
    e, name = _state(machine.IDLE)
    before = fingerprint(e)
    answer = ok(e, "stop", map=name)
    assert answer["events"] == [] and fingerprint(e) == before


def test_suspended_returns_to_the_state_it_left() -> None:
    e, name = _state(machine.STOPPING)
    ok(e, "inject", map=name, event="bitmap_offline")
    assert e.maps[name].state == "suspended"
    ok(e, "inject", map=name, event="bitmap_online")
    assert e.maps[name].state == "stopping"


def test_suspended_takes_source_and_target_offline() -> None:
    e, _ = _state(machine.SUSPENDED)
    for volume in ("S", "T2"):
        answer = e.handle({"op": "read", "volume": volume, "block": 0, "count": 1})
        assert answer["error"] == "offline"


def test_machine_table_names_only_known_states() -> None:
    states = set(machine.STATES) | {machine.DELETED}
    for before, _, after in machine.TRANSITIONS:
        assert before in states and after in states
    for accepted in machine.ACCEPTS.values():
        assert accepted <= set(machine.STATES)
