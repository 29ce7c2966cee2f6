"""Keeping pace: states an implementation reaches in its own time, by a declared limit, or by a
declared fault — followed by the specification, or left open, or a nonconformance."""

from __future__ import annotations

from typing import Any

from ..protocol import answer_problem
from .entry import FAULT_STATES, Entry, state_is_fault
from .errors import Nonconformance

# states an implementation may reach ahead of the specification by its own background work
AHEAD = {
    ("copying", "idle_or_copied"),
    ("stopping", "stopped"),
    ("stopping", "idle_or_copied"),
    ("preparing", "prepared"),
}
# state pairs (specification, implementation) a declared `dependency_states` leaves open
DEPENDENCY_STATES = {("copying", "idle_or_copied"), ("idle_or_copied", "copying")}


class Pace:
    """The session's part that reconciles map states (mixed into `Session`)."""

    oracle: Any
    hello: Any
    spec: Any
    log: list[Entry]
    uncertain: set[str]
    ghosts: dict[str, Any]
    faults: list[str]
    own_pace: bool
    _sweep: bool

    def _states_sweep(self) -> None:
        """Own pace, declared faults or declared `dependency_states`: after every change, every
        map's state must be the specification's, or one it reaches by background work (the
        specification catches up), or one a declaration leaves open."""
        for name in sorted(self.ghosts):
            if not self._ask({"op": "status", "map": name}, "probe").get("ok"):
                del self.ghosts[name]  # the implementation let it go too
        for name in sorted(self.oracle.maps):
            if name not in self.oracle.maps:  # catching up with an earlier map completed it
                continue  # and autodeleted it (the ghosts above cover the implementation's)
            op = {"op": "status", "map": name}
            answer = self._ask(op, "probe")
            problem = answer_problem("status", answer)
            if problem:
                self.log[-1].origin = "observe"  # the probe failed: it is evidence now
                raise Nonconformance(
                    "malformed", f"the answer to status has the wrong shape: {problem}"
                )
            if not answer["ok"]:
                if answer["error"] == "unknown_map" and self._open_completion(name):
                    self.uncertain.add(name)  # it completed there and deleted itself
                continue
            if not self._reconcile(name, answer["state"]):
                record = self.oracle.maps.get(name)
                if record is None:  # completed and autodeleted while catching up just now
                    continue
                self.log[-1].origin = "observe"
                self.log[-1].expect = {"ok": True, "state": record.state}
                unprovoked = state_is_fault(record.state, answer["state"])
                raise Nonconformance(
                    "state",
                    f"map {name} is {answer['state']}; the specification says {record.state}"
                    + (" (no operation caused this change)" if unprovoked else ""),
                )

    def _accept_ahead(self, entry: Entry) -> None:
        """Own pace: an operation's answer may name a state the implementation reached ahead
        of the specification by its own background work (a stop with nothing to clean is
        `stopped` at once where the specification is still `stopping`); the sweep after the
        operation catches the specification up, or fails."""
        expect, answer = entry.expect, entry.answer
        if not self.own_pace or expect is None or answer is None or not answer.get("ok"):
            return
        ahead = (expect.get("state"), answer.get("state")) in AHEAD
        if ahead and entry.request.get("op") != "status":
            expect["state"] = answer["state"]

    def _maybe_ghost(self, record: Any) -> None:
        """The specification completed a map and deleted it (autodelete); if a declared limit
        leaves completion open and the implementation still has it, it is a ghost: left open
        until the implementation lets it go."""
        if not self._sweep or self.hello.supports("dependency_states"):
            return
        if self._ask({"op": "status", "map": record.name}, "probe").get("ok"):
            self.ghosts[record.name] = record

    def _open_completion(self, name: str) -> bool:
        """A declared limit leaves this map's completion open (it is copying here)."""
        record = self.oracle.maps[name]
        return record.state == "copying" and not self.hello.supports("dependency_states")

    def _reconcile(self, name: str | None, state: str) -> bool:
        """Whether the implementation's state for a map is the specification's, once the
        specification has caught up, or one a declaration leaves open (then the map is
        uncertain until the two agree again)."""
        record = self.oracle.maps.get(name) if name is not None else None
        if record is None:
            return False
        if self.own_pace and (record.state, state) in AHEAD:
            self._catch_up(record, state)
        if state == record.state:
            self.uncertain.discard(record.name)
            return True
        if (
            not self.hello.supports("dependency_states")
            and (record.state, state) in DEPENDENCY_STATES
        ):
            self.uncertain.add(record.name)
            return True
        if self.hello.may_fault and state_is_fault(record.state, state):
            self._fault(record.name, state)
            return True
        return False

    def _catch_up(self, record: Any, state: str) -> None:
        """Advance the specification's background work on one map, a grain at a time, until it
        reaches the implementation's state or can go no further."""
        size = self.oracle.model.sizes.get(record.target, 1)
        for _ in range(4 * (size + 2) * (len(self.oracle.maps) + 1)):
            was = record.state
            op = {"op": "copy", "map": record.name, "grains": 1}
            a = self.spec.request(op)
            self.log.append(Entry(op, None, None, "catch_up"))
            if not a["ok"]:
                return
            self._follow(op, a)
            if record.name not in self.oracle.maps or record.state == state:
                return
            if a["copied"] == 0 and record.state == was:
                return

    def _fault(self, name: str, state: str) -> None:
        """A declared unprovoked fault: the specification takes the same event, and it is
        counted."""
        op = {"op": "inject", "map": name, "event": FAULT_STATES[state]}
        a = self.spec.request(op)
        self.log.append(Entry(op, None, None, "catch_up"))
        if not a["ok"]:
            raise Nonconformance("state", f"map {name} became {state}; no fault explains it")
        self._follow(op, a)
        self.faults.append(f"{name}: {state} ({op['event']})")
