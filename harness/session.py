"""One run against an implementation: send operations, follow the oracle, check every step.

After every operation the session checks what the implementation exposes (its `hello`):

- images (always): every online volume reads exactly its abstract image; offline volumes
  refuse host I/O with `offline`;
- states: every map's state is one the mapping state machine can reach from its last state
  (for implementations that report events, each (from, cause, to) must be a legal transition);
- internals: the step is one the specification's rules allow, evaluated concretely
  (`harness.stepcheck`), including the proved bound on grain copies per write.

A refused operation must change nothing: the same checks run after refusals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from model.machine import STATES, TRANSITIONS, legal

from .drivers import Driver
from .oracle import Oracle
from .stepcheck import MapDef, StepCheck, build_state

MACHINE = nx.DiGraph([(f, t) for f, _, t in TRANSITIONS])
MACHINE.add_nodes_from(STATES)


class Nonconformance(Exception):
    """The implementation did something the specification does not allow."""

    def __init__(
        self,
        kind: str,
        message: str,
        volume: str | None = None,
        block: int | None = None,
        expected: Any = None,
        got: Any = None,
        expect: dict[str, Any] | None = None,
        probe: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.volume, self.block, self.expected, self.got = volume, block, expected, got
        self.expect = expect  # what the failing operation should have answered (for the trace)
        self.probe = probe  # an operation, with its expect, that shows the fault on replay


@dataclass
class Capabilities:
    """What an implementation says it supports and exposes."""

    ops: frozenset[str]
    exposes: frozenset[str]
    name: str = "?"
    policies: tuple[str, ...] = ("per-type",)

    @classmethod
    def from_hello(cls, answer: dict[str, Any]) -> Capabilities:
        """Read a `hello` answer."""
        return cls(
            frozenset(answer.get("ops", [])),
            frozenset(answer.get("exposes", ["images"])),
            str(answer.get("name", "?")),
            tuple(answer.get("policies", ["per-type"])),
        )


@dataclass
class Session:
    """A driver, the oracle that follows it, and the log of what was sent."""

    driver: Driver
    caps: Capabilities
    grain_size: int = 2
    policy: str = "per-type"
    step_check: bool = True
    log: list[dict[str, Any]] = field(default_factory=list)
    oracle: Oracle = field(init=False)
    defs: dict[str, MapDef] = field(default_factory=dict)
    states: dict[str, str] = field(default_factory=dict)
    copies_made: int = 0

    def __post_init__(self) -> None:
        self.oracle = Oracle(self.grain_size)
        self.checker = StepCheck(self.policy)
        self._orders = 0
        self.send(
            {"op": "reset", "grain_size": self.grain_size, "policy": self.policy}, check=False
        )

    @property
    def internals(self) -> bool:
        """The step check runs (the implementation exposes internals and it is on)."""
        return self.step_check and "internals" in self.caps.exposes

    # -- sending --------------------------------------------------------------------
    def send(
        self, op: dict[str, Any], expect_error: str | None = None, check: bool = True
    ) -> dict[str, Any]:
        """Send one operation, follow it, check everything; raise Nonconformance on a fault."""
        before = (
            self._internal_state()
            if check and self.internals and op["op"] in ("write", "start", "copy")
            else None
        )
        promised = self._dependents(op) if check else None
        answer = self.driver.request(op)
        self.log.append({"request": op, "answer": answer})
        self.copies_made += len(answer.get("copies", []))
        if expect_error is not None:
            refusal = {"ok": False, "error": expect_error}
            if answer.get("ok"):
                raise Nonconformance(
                    "accepted",
                    f"{op['op']} should be refused with {expect_error!r} but was accepted",
                    expect=refusal,
                )
            if answer.get("error") != expect_error:
                raise Nonconformance(
                    "wrong_error",
                    f"{op['op']} was refused with "
                    f"{answer.get('error')!r}, the reference refuses it with "
                    f"{expect_error!r}",
                    expect=refusal,
                )
        if answer.get("ok"):
            self.oracle.accepted(op)
            self._note_map(op)
        if not check:
            return answer
        old_states = dict(self.states)
        self._follow_states(answer)
        if promised is not None and answer.get("ok"):
            self._check_dependents(op["map"], promised, old_states, answer)
        if before is not None and answer.get("ok"):
            self._check_step(before, op, answer)
        self.check_images()
        return answer

    # -- dependents ------------------------------------------------------------------------
    def _dependents(self, op: dict[str, Any]) -> set[str] | None:
        """Before a forced stop: the maps the implementation says it will stop too."""
        if not (
            op["op"] == "stop"
            and op.get("force")
            and "dependents" in self.caps.ops
            and "states" in self.caps.exposes
        ):
            return None
        a = self.driver.request({"op": "dependents", "map": op.get("map")})
        return set(a["maps"]) if a.get("ok") else None

    def _check_dependents(
        self, name: str, promised: set[str], old: dict[str, str], answer: dict[str, Any]
    ) -> None:
        """A forced stop stops exactly the maps `dependents` listed just before (the product's
        lsfcmapdependentmaps contract), and no other. A map that was already stopping and
        merely finished cleaning is not one of them: with events, the cause says so; without,
        only maps that were not stopping count."""
        if "events" in answer:
            stopped = {e["map"] for e in answer["events"] if e["cause"] == "dependent"}
        else:
            stopped = {
                n
                for n, s in self.states.items()
                if n != name and s == "stopped" and old.get(n) not in ("stopped", "stopping")
            }
        if stopped != promised:
            raise Nonconformance(
                "dependents",
                f"forced stop of {name}: dependents listed {sorted(promised)}, but the stop "
                f"stopped {sorted(stopped)} with it",
            )

    def _note_map(self, op: dict[str, Any]) -> None:
        if op["op"] == "create_map" and "internals" in self.caps.exposes:
            a = self.driver.request({"op": "status", "map": op["map"]})
            if a.get("ok"):
                self._orders += 1
                self.defs[op["map"]] = MapDef.from_status(op["map"], a, self._orders)
        elif op["op"] == "delete_map":
            self.defs.pop(op["map"], None)
        elif op["op"] == "reset":
            self.defs.clear()
            self.states.clear()

    # -- states --------------------------------------------------------------------------
    def _follow_states(self, answer: dict[str, Any]) -> None:
        if "states" not in self.caps.exposes:
            return  # the oracle keeps the states its own operations imply
        for event in answer.get("events", []):
            t = (event["from"], event["cause"], event["to"])
            if not legal(t):
                raise Nonconformance(
                    "illegal_transition",
                    f"map {event['map']}: {t[0]} --{t[1]}--> {t[2]} is not a legal transition",
                )
        now: dict[str, tuple[str, int]] = {}
        for name in list(self.oracle.maps):
            a = self.driver.request({"op": "status", "map": name})
            if not a.get("ok"):
                continue  # deleted by the implementation (autodelete)
            now[name] = (a["state"], a["progress"])
            old = self.states.get(name, "idle_or_copied")
            if a["state"] != old and not nx.has_path(MACHINE, old, a["state"]):
                raise Nonconformance(
                    "illegal_transition",
                    f"map {name} went from {old} to "
                    f"{a['state']}, which the state machine cannot reach",
                )
        self.oracle.observed(now)
        self.states = {n: s for n, (s, _) in now.items()}

    # -- images ------------------------------------------------------------------------
    def check_images(self) -> None:
        """Every volume reads its image; offline ones refuse I/O."""
        offline = self.oracle.offline()
        model = self.oracle.model
        for volume in self.oracle.volumes():
            size = model.sizes[volume]
            a = self.driver.request({"op": "read", "volume": volume, "block": 0, "count": size})
            if volume in offline or not model.defined(volume):
                if volume in offline and a.get("ok"):
                    raise Nonconformance(
                        "online",
                        f"volume {volume} should refuse I/O "
                        "(its map's state takes it offline) but was read",
                    )
                continue
            if not a.get("ok"):
                raise Nonconformance(
                    "refused_read",
                    f"volume {volume} should be readable but "
                    f"its read was refused: {a.get('error')}",
                    volume,
                )
            model.pin(volume, a["data"])
            want = model.expected(volume)
            for block, (w, g) in enumerate(zip(want, a["data"], strict=True)):
                if w != g:
                    probe = {
                        "op": "read",
                        "volume": volume,
                        "block": 0,
                        "count": size,
                        "expect": {"ok": True, "data": want},
                    }
                    raise Nonconformance(
                        "image",
                        f"volume {volume} block {block}: expected {w!r}, got {g!r}",
                        volume,
                        block,
                        w,
                        g,
                        probe=probe,
                    )

    # -- the step check -------------------------------------------------------------------
    def _internal_state(self) -> Any:
        a = self.driver.request({"op": "internals"})
        if not a.get("ok"):
            return None
        return build_state(a, self.defs, self.states)

    def _check_step(self, before: Any, op: dict[str, Any], answer: dict[str, Any]) -> None:
        problem = None
        self.checker.predicted = None
        kind = op["op"]
        if kind == "write":
            problem = self.checker.write(before, op, answer, self.grain_size)
        elif kind == "start" and op["map"] in self.defs:
            causes = {e["cause"] for e in answer.get("events", [])}
            if causes <= {"prepare", "flushed", "start"}:
                after = self.driver.request({"op": "internals"})
                problem = self.checker.start(before, self.defs[op["map"]], after["cascades"])
        elif kind == "copy" and op["map"] in self.defs:
            problem = self.checker.background(before, self.defs[op["map"]].target, answer)
        if problem is None and kind in ("write", "copy"):
            after = self._internal_state()
            if after is not None:
                images = {
                    v: a
                    for v, a in self.oracle.model.images.items()
                    if all(None not in a[g] for g in a)
                }
                problem = self.checker.invariant(after.evolve(ref=images))
        if problem:
            expect = None
            if self.checker.predicted is not None:
                expect = {"ok": True, "copies": self.checker.predicted}
            raise Nonconformance("step", problem, expect=expect)


__all__ = ["Capabilities", "Nonconformance", "Session"]
