"""The lockstep session: every answer has an expected value, and each check catches a seeded bug."""

from __future__ import annotations

from typing import Any

import pytest

from harness.core import Hello, Nonconformance, Session
from harness.core.errors import SpecDisagreement
from harness.drivers import Driver, open_driver, open_spec
from reference import Engine
from reference.wrappers import Wrapper


def session(driver: str, **kw: Any) -> Session:
    sut = open_driver(driver)
    return Session(sut, open_spec(), Hello.parse(sut.request({"op": "hello"})), **kw)


def setup(s: Session, size: int = 4) -> None:
    for v in ("S", "T", "U"):
        s.send({"op": "create_volume", "volume": v, "size": size})


def test_the_reference_meets_every_expectation_and_the_log_holds_them() -> None:
    s = session("reference")
    setup(s)
    s.send({"op": "write", "volume": "S", "block": 0, "data": ["a", "b"]})
    s.send({"op": "create_map", "map": "m", "source": "S", "target": "T", "type": "snapshot"})
    s.send({"op": "start", "map": "m"})
    s.send({"op": "write", "volume": "S", "block": 0, "data": ["c"]})
    s.send({"op": "write", "volume": "T", "block": 9, "data": ["x"]})  # refused: out_of_range
    s.observe()
    expects = {e.request["op"]: e.expect for e in s.log}
    assert expects["start"] == {"ok": True, "state": "copying", "restoring": False}
    assert expects["write"] == {"ok": False, "error": "out_of_range"}
    reads = [e for e in s.log if e.request["op"] == "read" and e.request["volume"] == "T"]
    assert reads[-1].expect == {"ok": True, "data": ["a", "b", "", ""]}
    assert {"status", "dependents", "cascades"} <= {e.request["op"] for e in s.log}


class AcceptsOutOfRange(Wrapper):
    def handle(self, request: Any) -> dict[str, Any]:
        if request.get("op") == "write" and request.get("block", 0) >= 4:
            return {"ok": True}
        return super().handle(request)


class RefusesSecondVolume(Wrapper):
    def handle(self, request: Any) -> dict[str, Any]:
        if request.get("op") == "create_volume" and request.get("volume") == "T":
            return self.refuse("limit")
        return super().handle(request)


class WrongCode(Wrapper):
    def handle(self, request: Any) -> dict[str, Any]:
        answer = super().handle(request)
        if answer.get("error") == "unknown_map":
            answer["error"] = "unknown_volume"
        return answer


class StartSaysStopped(Wrapper):
    def change(self, request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if request["op"] == "start" and answer.get("ok"):
            answer["state"] = "stopped"
        return answer


class ShortRead(Wrapper):
    def change(self, request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if request["op"] == "read" and answer.get("ok"):
            answer["data"] = answer["data"][:-1]
        return answer


class StatusWithoutState(Wrapper):
    def change(self, request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if request["op"] == "status" and answer.get("ok"):
            del answer["state"]
        return answer


@pytest.mark.parametrize(
    ("cls", "kind", "words"),
    [
        (AcceptsOutOfRange, "accepted", "the specification refuses it (out_of_range)"),
        (RefusesSecondVolume, "refused", "the specification accepts it"),
        (WrongCode, "wrong_error", "refuses it with 'unknown_map'"),
        (StartSaysStopped, "state", 'state: expected "copying", got "stopped"'),
        (ShortRead, "malformed", "a read of 4 blocks answered 3"),
        (StatusWithoutState, "malformed", "missing required field `state`"),
    ],
)
def test_each_check_catches_its_seeded_bug(cls: type, kind: str, words: str) -> None:
    s = session(f"python:tests.test_session:{cls.__name__}")
    with pytest.raises(Nonconformance) as err:
        setup(s)
        s.send({"op": "write", "volume": "S", "block": 5, "data": ["x"]})
        s.send({"op": "start", "map": "nosuch"})
        s.send({"op": "create_map", "map": "m", "source": "S", "target": "T"})
        s.send({"op": "start", "map": "m"})
        s.observe()
    assert err.value.kind == kind and words in err.value.message, err.value.message
    assert s.log[-1].expect is not None or kind == "malformed"  # the failing op is logged


class InternalsRefused(Wrapper):
    """Lists its internals as exposed (the reference's hello) and refuses every query of them."""

    def handle(self, request: Any) -> dict[str, Any]:
        if isinstance(request, dict) and request.get("op") == "internals":
            return self.refuse("unsupported")
        return super().handle(request)


class InternalsGarbled(Wrapper):
    """Answers its internals with a shape the vocabulary does not allow."""

    def change(self, request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if request["op"] == "internals" and answer.get("ok"):
            answer["maps"] = "none"
        return answer


class EveryGrainSplit(Wrapper):
    """Its internals say every target holds every grain; the targets do not, and its images
    are right (the engine's): only the step check can see it."""

    def change(self, request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if request["op"] == "internals" and answer.get("ok"):
            for m in answer["maps"].values():
                m["split"] = "1" * len(m["split"])
        return answer


class StartMisplacedWithOddEvent(Wrapper):
    """Its internals list every cascade backwards, and its start answers report an event of a
    cause no plain start has: gating the start rule on the implementation's own events let
    that turn the check off."""

    def change(self, request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if request["op"] == "internals" and answer.get("ok"):
            for c in answer["cascades"]:
                c["volumes"].reverse()
        if request["op"] == "start" and answer.get("ok"):
            answer["events"] = [*answer.get("events", []), {"map": "m", "cause": "restore"}]
        return answer


STEPS = [
    {"op": "write", "volume": "S", "block": 0, "data": ["a", "b", "c", "d"]},
    {"op": "create_map", "map": "m", "source": "S", "target": "T", "type": "snapshot"},
    {"op": "start", "map": "m"},
    {"op": "write", "volume": "S", "block": 0, "data": ["x"]},
]


@pytest.mark.parametrize(
    ("cls", "kind", "words", "at"),
    [
        (InternalsRefused, "refused", "internals refused (unsupported", "write"),
        (InternalsGarbled, "malformed", "the answer to internals has the wrong shape", "write"),
        (EveryGrainSplit, "step", "", "write"),
        (StartMisplacedWithOddEvent, "step", "", "start"),
    ],
)
def test_the_step_check_catches_its_seeded_bugs_and_cannot_be_turned_off(
    cls: type, kind: str, words: str, at: str
) -> None:
    """An implementation whose hello exposes internals is held to them: a refused or garbled
    `internals` is a nonconformance (it used to skip the step check silently), and the start
    rule runs whatever events the implementation reports (at the start, not a step later).
    Each wrapper's images are the reference's own, so no other check sees these: with the
    step check off the same steps pass."""
    s = session(f"python:tests.test_session:{cls.__name__}")
    setup(s)
    sent = []
    with pytest.raises(Nonconformance) as err:
        for op in STEPS:
            sent.append(op["op"])
            s.send(op)
    assert err.value.kind == kind and words in err.value.message, err.value.message
    assert sent[-1] == at, sent
    plain = session(f"python:tests.test_session:{cls.__name__}", step_check=False)
    setup(plain)
    for op in STEPS:
        plain.send(op)
    plain.observe()


def test_the_step_checks_own_queries_are_valid_whatever_the_step() -> None:
    """The session asks internals before each write, start and copy, malformed or refused
    ones included: the query must be one a correct implementation answers (a write before
    block 0 once made it ask for negative grains, and the reference refused)."""
    s = session("reference")
    setup(s)
    s.send({"op": "create_map", "map": "m", "source": "S", "target": "T"})
    s.send({"op": "start", "map": "m"})
    for write in (
        {"op": "write", "volume": "S", "block": -3, "data": ["x"]},
        {"op": "write", "volume": "S", "block": 2, "data": "not a list"},
        {"op": "write", "volume": "S", "block": True, "data": ["x"]},
        {"op": "write", "volume": "S", "block": 10**12, "data": ["x"]},
        {"op": "copy", "map": "m", "grains": -1},
    ):
        assert not s.send(write)["ok"]
    assert not any(e.answer and e.answer.get("ok") is False for e in s.log if e.origin == "probe")


def test_exposing_internals_without_the_operations_to_read_them_is_a_malformed_hello() -> None:
    from harness.core.hello import HelloError

    hello = Engine().handle({"op": "hello"})
    for op in ("internals", "status"):
        with pytest.raises(HelloError, match="exposing internals needs"):
            Hello.parse({**hello, "ops": [o for o in hello["ops"] if o != op]})


def test_unsupported_refusal_hints_at_declaring_it() -> None:
    class Unsupported(Wrapper):
        def handle(self, request: Any) -> dict[str, Any]:
            if request.get("op") == "settle":
                return self.refuse("unsupported")
            return super().handle(request)

    globals()["Unsupported"] = Unsupported
    s = session("python:tests.test_session:Unsupported")
    with pytest.raises(Nonconformance, match="must be declared in hello"):
        s.send({"op": "settle"})


def test_a_read_is_checked_against_the_model_not_the_engine() -> None:
    """The point-in-time model decides data; a reference that disagreed with it would be a
    cascadecheck bug, reported as such (never blamed on the implementation)."""

    class LyingSpec(Driver):
        def __init__(self) -> None:
            self.engine = Engine()

        def request(self, op: dict[str, Any]) -> dict[str, Any]:
            answer = self.engine.handle(op)
            if op["op"] == "read" and answer.get("ok"):
                answer["data"] = ["lie"] * len(answer["data"])
            return answer

    sut = open_driver("reference")
    s = Session(sut, LyingSpec(), Hello.parse(sut.request({"op": "hello"})))
    s.send({"op": "create_volume", "volume": "S", "size": 2})
    with pytest.raises(SpecDisagreement):
        s.send({"op": "read", "volume": "S", "block": 0, "count": 2})


class OwnPace(Wrapper):
    """The reference engine copying in its own time: every clone completes at its first
    `copy`, and it says so in hello (pace own)."""

    def change(self, request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if request["op"] == "hello":
            answer["pace"] = "own"
        return answer

    def handle(self, request: Any) -> dict[str, Any]:
        if request.get("op") == "copy" and request.get("map") in self.engine.maps:
            m = self.engine.maps[request["map"]]
            if m.state == "copying" and m.copy_rate > 0:
                request = {**request, "grains": m.grains}
        return super().handle(request)


def test_own_pace_the_specification_catches_up_and_the_trace_marks_it() -> None:
    s = session("python:tests.test_session:OwnPace")
    setup(s, size=8)
    s.send({"op": "create_map", "map": "m", "source": "S", "target": "T", "copy_rate": 10})
    s.send({"op": "start", "map": "m"})
    s.send({"op": "copy", "map": "m", "grains": 1})  # the implementation copied all four
    assert s.oracle.maps["m"].state == "idle_or_copied"
    assert sum(e.origin == "catch_up" for e in s.log) == 4  # one grain at a time
    s.observe()


def test_without_own_pace_the_same_behaviour_is_a_nonconformance() -> None:
    class Fast(OwnPace):
        def change(self, request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
            return answer

    globals()["Fast"] = Fast
    s = session("python:tests.test_session:Fast")
    setup(s, size=8)
    s.send({"op": "create_map", "map": "m", "source": "S", "target": "T", "copy_rate": 10})
    s.send({"op": "start", "map": "m"})
    with pytest.raises(Nonconformance) as err:
        s.send({"op": "copy", "map": "m", "grains": 1})
    assert err.value.kind in ("answer", "state")


def test_an_unprovoked_fault_is_a_nonconformance_unless_declared() -> None:
    def run(name: str) -> Session:
        s = session(f"python:reference.wrappers:{name}")
        setup(s)
        s.send({"op": "create_map", "map": "m", "source": "S", "target": "T", "type": "snapshot"})
        s.send({"op": "start", "map": "m"})
        for i in range(25):
            s.send({"op": "write", "volume": "S", "block": 0, "data": [f"w{i}"]})
        return s

    with pytest.raises(Nonconformance, match="no operation caused this change"):
        run("SpontaneousIoError").observe()
    declared = run("FaultsDeclared")
    assert declared.faults == ["m: stopped (io_error)"]
    declared.observe()  # the specification took the same fault: images agree


def test_observing_every_step_hides_a_lazy_implementation() -> None:
    """Copy on read: reading after every step materialises each grain in time, so the bug
    never shows; reading only when the generator chooses (the default) finds it."""
    ops = [
        {"op": "create_map", "map": "m", "source": "S", "target": "T", "type": "snapshot"},
        {"op": "start", "map": "m"},
        {"op": "write", "volume": "T", "block": 0, "data": ["t0"]},  # partial: fill deferred
        {"op": "write", "volume": "S", "block": 1, "data": ["s1"]},  # upstream changes first
    ]
    lazy = "python:reference.mutants_lifecycle:LazyFill"
    masked = session(lazy, observe_every_step=True)
    setup(masked)
    for op in ops:
        masked.send(op)
    masked.observe()  # nothing found
    caught = session(lazy)
    setup(caught)
    for op in ops:
        caught.send(op)
    with pytest.raises(Nonconformance) as err:
        caught.observe()
    assert err.value.kind == "image" and err.value.volume == "T"
