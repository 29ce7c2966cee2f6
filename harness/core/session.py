"""One run against an implementation, in lockstep with the specification.

Every operation goes to two implementations: the specification engine (the reference engine,
loaded by name like any other) and the implementation under test. Before its answer is read
every answer's shape is checked (`harness.protocol`); then it must meet an expectation drawn
from the specification:

- acceptance, and the refusal code, from the specification engine (for `copy` under an own
  pace, from the model's state machine, `model.machine`);
- the data of every read from the point-in-time model (`harness.core.oracle`), and I/O to an
  offline volume refused, from the product's state table (`model.availability`);
- every other answer field the vocabulary defines (`model.vocabulary.ANSWERS`) from the
  specification engine's answer: states, progress, restoring, copies done, dependents and
  cascades (as sets), every `status` field;
- grain copies and cascades, where the implementation exposes its internals, from the
  specification's rules evaluated concretely (`harness.core.stepcheck`).

The model and the specification engine cross-check each other where both decide (a read's
data and availability); a disagreement is a fault of cascadecheck (`SpecDisagreement`).

Observation is itself generated: reads, `status`, `dependents` and `cascades` are operations
like any other. `observe()` reads every volume and queries every map and cascade; the
generator calls it at points it chooses and at the end of every sequence, and
`observe_every_step` calls it after every operation (which would hide an implementation that
copies lazily when it is read, so it is an option, not the default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from model.machine import accepts
from model.vocabulary import ANSWERS, SHAPES

from ..drivers import Driver, DriverError
from ..protocol import answer_problem, request_problem
from ..trace.match import mismatch
from .entry import ACTIVE, Entry, show, state_is_fault
from .errors import Nonconformance, SpecDisagreement
from .hello import Hello
from .internals import Internals
from .oracle import Oracle
from .pace import Pace
from .stepcheck import MapDef, StepCheck

QUERY_OPS = ("hello", "status", "read", "dependents", "cascades", "internals")
CREATES = {"create_volume": "volume", "create_map": "map", "create_group": "group"}
# fields an own-pace implementation reports in its own time: checked as ranges, not values
OWN_PACE_FIELDS = {"copy.copied", "copy.state", "copy.progress", "status.progress"}


@dataclass
class Session(Pace, Internals):
    """The implementation under test, the specification beside it, and the log of the run."""

    sut: Driver
    spec: Driver
    hello: Hello
    grain_size: int = 2
    policy: str = "per-type"
    step_check: bool = True
    observe_every_step: bool = False
    on_step: Callable[[Entry, str | None, dict[str, Any]], None] | None = None
    log: list[Entry] = field(default_factory=list)
    oracle: Oracle = field(init=False)
    uncertain: set[str] = field(default_factory=set)  # maps a declared limit leaves open
    started: set[str] = field(default_factory=set)  # maps started at least once
    names: dict[str, set[str]] = field(default_factory=dict)  # every name ever used, by kind
    faults: list[str] = field(default_factory=list)  # unprovoked faults (declared may_fault)
    groups: set[str] = field(default_factory=set)  # groups that exist
    ghosts: dict[str, Any] = field(default_factory=dict)  # gone here, kept there (uncertain)

    def __post_init__(self) -> None:
        self.oracle = Oracle(self.grain_size)
        self.checker = StepCheck(self.policy)
        self.defs: dict[str, MapDef] = {}
        self._orders = 0
        self._progress: dict[str, int] = {}
        self.own_pace = self.hello.pace == "own"
        self._sweep = (
            self.own_pace or self.hello.may_fault or not self.hello.supports("dependency_states")
        )
        self.exempt = {
            u for s in SHAPES.values() if not self.hello.supports(s.name) for u in s.unchecked
        }
        if self.own_pace:
            self.exempt |= OWN_PACE_FIELDS
        self.send({"op": "reset", "grain_size": self.grain_size, "policy": self.policy})

    @property
    def internals(self) -> bool:
        """The step check runs (the implementation exposes internals and it is on)."""
        return self.step_check and "internals" in self.hello.exposes

    # -- sending ---------------------------------------------------------------------------
    def send(self, op: dict[str, Any], origin: str = "generated") -> dict[str, Any]:
        """Send one operation to both sides, check the answer, follow the specification."""
        kind = op.get("op")
        name = op.get("map")
        state_before = self.oracle.maps[name].state if name in self.oracle.maps else None
        before = (
            self._internal_state(self._grains_of(op))
            if self.internals and kind in ("write", "start", "copy")
            else None
        )
        spec_answer = self._spec_answer(op)
        answer = self._ask(op, origin, spec_answer)
        problem = answer_problem(str(kind), answer)
        if problem is None and kind == "read" and answer["ok"]:
            problem = self._read_length(op, answer)
        if problem:  # logged with the specification's expectation, so `replay` fails too
            self.log.append(Entry(op, answer, self._expect(op, spec_answer), origin))
            raise Nonconformance(
                "malformed", f"the answer to {kind} has the wrong shape: {problem}"
            )
        if (
            kind == "status"
            and self._sweep
            and answer["ok"]
            and spec_answer["ok"]
            and answer["state"] != spec_answer["state"]
            and self._reconcile(name, answer["state"])
        ):
            spec_answer = self.spec.request(op)  # the specification caught up
        entry = Entry(op, answer, self._expect(op, spec_answer), origin)
        self._accept_ahead(entry)
        self.log.append(entry)
        self._compare(op, entry.expect, answer)
        if spec_answer["ok"]:
            self._follow(op, spec_answer)
        if self.on_step is not None:
            self.on_step(entry, state_before, spec_answer)
        if before is not None and answer["ok"]:
            self._check_step(before, op, answer, spec_answer)
        if self._sweep and kind not in QUERY_OPS:
            self._states_sweep()
        if self.observe_every_step and origin == "generated":
            self.observe()
        return answer

    def _ask(
        self, op: dict[str, Any], origin: str, spec_answer: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The implementation's answer. A probe (a query the session makes for itself) is
        logged as one, so a transcript holds every request the implementation saw; a request
        it never answered stays in the log, with the specification's expectation, so the
        saved trace ends with it."""
        try:
            answer = self.sut.request(op)
        except DriverError:
            expect = None if spec_answer is None else self._expect(op, spec_answer)
            self.log.append(Entry(op, None, expect, origin))
            raise
        if origin == "probe":
            self.log.append(Entry(op, answer, None, "probe"))
        return answer

    def _spec_answer(self, op: dict[str, Any]) -> dict[str, Any]:
        """What the specification answers. Under an own pace a `copy` is decided by the
        model's state machine and sent nowhere: the specification keeps the implementation's
        pace by catching up (`_catch_up`), never the other way round."""
        if not (self.own_pace and op.get("op") == "copy"):
            return self.spec.request(op)
        if request_problem(op):
            return {"ok": False, "error": "bad_request", "message": "malformed"}
        record = self.oracle.maps.get(op["map"])
        if record is None:
            return {"ok": False, "error": "unknown_map", "message": "no such map"}
        if not accepts("copy", record.state):
            return {"ok": False, "error": "bad_state", "message": f"map is {record.state}"}
        return {"ok": True, "copied": 0, "state": record.state, "progress": record.progress}

    def _read_length(self, op: dict[str, Any], answer: dict[str, Any]) -> str | None:
        want = op.get("count")
        got = len(answer["data"])
        return None if got == want else f"a read of {want} blocks answered {got}"

    # -- expectations ------------------------------------------------------------------------
    def _expect(self, op: dict[str, Any], spec_answer: dict[str, Any]) -> dict[str, Any]:
        """What the answer must contain, from the specification."""
        kind = op["op"]
        if kind == "read":
            self._cross_check_read(op, spec_answer)
        if not spec_answer["ok"]:
            return {"ok": False, "error": spec_answer["error"]}
        expect: dict[str, Any] = {"ok": True}
        if kind == "read":
            expect["data"] = self.oracle.blocks(op["volume"], op["block"], op["count"])
        elif kind in ANSWERS and kind not in ("hello", "internals"):
            for key in ANSWERS[kind]:
                if f"{kind}.{key}" not in self.exempt:
                    expect[key] = spec_answer[key]
            if kind == "status" and op["map"] in self.uncertain:  # restoring ends with the copy
                for key in ("state", "progress", "dependent_mappings", "restoring"):
                    expect.pop(key, None)
        return expect

    def _cross_check_read(self, op: dict[str, Any], spec_answer: dict[str, Any]) -> None:
        """The specification engine and the model agree on a read (else cascadecheck is wrong),
        except on values the model adopted from the implementation (`Oracle.adopted`: a
        revived target holds "possibly inconsistent data", its own on each side)."""
        volume = op.get("volume")
        if volume not in self.oracle.model.sizes or request_problem(op):
            return
        offline = volume in self.oracle.offline()
        if spec_answer["ok"] == offline and spec_answer.get("error") != "out_of_range":
            raise SpecDisagreement(
                f"read of {volume}: the model says {'offline' if offline else 'online'}, "
                f"the specification engine answered {spec_answer}"
            )
        if spec_answer["ok"] and volume not in self.oracle.adopted:  # else the values differ
            want = self.oracle.blocks(volume, op["block"], op["count"])
            if want == spec_answer["data"]:
                return
            for w, g in zip(want, spec_answer["data"], strict=True):
                if w is not None and w != g:
                    raise SpecDisagreement(f"read of {volume}: model {want}, engine {spec_answer}")

    def _compare(self, op: dict[str, Any], expect: dict[str, Any], answer: dict[str, Any]) -> None:
        kind = op["op"]
        if expect["ok"] and not answer["ok"]:
            hint = (
                " (an operation the implementation does not support must be declared in "
                "hello's ops or unsupported, so it is never generated)"
                if answer["error"] == "unsupported"
                else ""
            )
            raise Nonconformance(
                "refused",
                f"{show(op)} was refused ({answer['error']}: {answer.get('message', '')}); "
                f"the specification accepts it{hint}",
            )
        if not expect["ok"] and answer["ok"]:
            raise Nonconformance(
                "accepted",
                f"{show(op)} was accepted; the specification refuses it ({expect['error']})",
            )
        if not expect["ok"]:
            if answer["error"] != expect["error"]:
                raise Nonconformance(
                    "wrong_error",
                    f"{show(op)} was refused with {answer['error']!r}; the specification "
                    f"refuses it with {expect['error']!r}",
                )
            return
        if kind == "read":
            self._compare_read(op, expect, answer)
            return
        problem = mismatch(expect, answer)
        if problem:
            what = "state" if problem.startswith(".state:") else "answer"
            if (
                what == "state"
                and kind == "status"
                and state_is_fault(expect["state"], answer["state"])
            ):
                problem += " (no operation caused this change)"
            raise Nonconformance(what, f"{show(op)}: {problem.lstrip('.')}")
        self._check_ranges(op, answer)

    def _compare_read(
        self, op: dict[str, Any], expect: dict[str, Any], answer: dict[str, Any]
    ) -> None:
        volume, first = op["volume"], op["block"]
        if expect["data"] == answer["data"]:
            return
        for i, (w, g) in enumerate(zip(expect["data"], answer["data"], strict=True)):
            if w is not None and w != g:
                raise Nonconformance(
                    "image",
                    f"volume {volume} block {first + i}: expected {w!r}, got {g!r}",
                    volume,
                    first + i,
                    w,
                    g,
                )
        if None in expect["data"]:
            self.oracle.model.pin(volume, answer["data"], first)

    def _check_ranges(self, op: dict[str, Any], answer: dict[str, Any]) -> None:
        """Own pace: progress never goes back while a map copies (I5)."""
        if not self.own_pace or op["op"] not in ("status", "copy"):
            return
        name = op["map"]
        if answer.get("state") != "copying":
            return
        last = self._progress.get(name, 0)
        if answer["progress"] < last:
            raise Nonconformance(
                "answer",
                f"{show(op)}: progress went back from {last} to {answer['progress']}",
            )
        self._progress[name] = answer["progress"]

    # -- following the specification ----------------------------------------------------------
    def _follow(self, op: dict[str, Any], spec_answer: dict[str, Any]) -> None:
        kind = op["op"]
        events = spec_answer.get("events", [])
        records = dict(self.oracle.maps)
        self.oracle.accepted(op, events)
        for e in events:
            if e["cause"] == "start":
                self.started.add(e["map"])
                self._progress.pop(e["map"], None)
            if e["to"] == "deleted":
                self.uncertain.discard(e["map"])
                self.defs.pop(e["map"], None)
                if e["cause"] == "autodelete" and e["map"] in records:
                    self._maybe_ghost(records[e["map"]])
        if kind == "reset":
            self.policy = op.get("policy", self.policy)
            self.checker = StepCheck(self.policy)
            self.groups.clear()
            self.uncertain.clear()
            self.ghosts.clear()
            self.started.clear()
            self.defs.clear()
            self.grain_size = op.get("grain_size", self.grain_size)
        if kind in CREATES:
            self.names.setdefault(CREATES[kind], set()).add(op[CREATES[kind]])
        if kind == "create_group":
            self.groups.add(op["group"])
        elif kind == "delete_group":
            self.groups.discard(op["group"])
        if kind == "create_map" and self.internals:
            self._note_map(op["map"])
        for name, record in self.oracle.maps.items():
            if record.state == "stopping":
                a = self.spec.request({"op": "status", "map": name})
                self.oracle.progress(name, a["progress"])

    # -- observation ------------------------------------------------------------------------------
    def observe(self) -> None:
        """Read every volume whole, and ask after every map, its dependents and the cascades.
        Names used before and gone since are asked after too: they must be gone."""
        maps = sorted(self.names.get("map", set()) - self.uncertain - set(self.ghosts))
        for op in ("status", "dependents"):  # states first: they say why an image is gone
            if op in self.hello.ops:
                for name in maps:
                    self.send({"op": op, "map": name}, "observe")
        if "cascades" in self.hello.ops:
            self.send({"op": "cascades"}, "observe")
        sizes = self.oracle.model.sizes
        for volume in sorted(self.names.get("volume", set()) | set(sizes)):
            self.send(
                {"op": "read", "volume": volume, "block": 0, "count": sizes.get(volume, 1)},
                "observe",
            )

    def map_states(self) -> dict[str, str]:
        """Every map's state, as the specification has it now."""
        return {name: record.state for name, record in self.oracle.maps.items()}

    def ask_after_changes(self, before: dict[str, str]) -> None:
        """Each map whose state changed since `before` is asked after at once (`status`, then
        `dependents`): what a host sees of a state it may not be in for long (stopping,
        restoring) is checked while it lasts. Queries read no data, so this hides nothing a
        later read would find."""
        for name, state in self.map_states().items():
            if before.get(name) == state:
                continue
            for query in ("status", "dependents"):
                op = {"op": query, "map": name}
                if query in self.hello.ops and not self.involves_uncertain(op):
                    self.send(op, "observe")

    # -- what the generator may ask -------------------------------------------------------------
    def involves_uncertain(self, op: dict[str, Any]) -> bool:
        """The operation's outcome depends on a map whose state a declaration leaves open (or
        that the specification deleted while the implementation still has it)."""
        if not self.uncertain and not self.ghosts:
            return False
        named = {op.get("map")}
        group = op.get("group")
        volumes = {op.get(k) for k in ("source", "target")}
        if op.get("op") == "delete_volume":
            volumes.add(op.get("volume"))
        maps = self.oracle.maps
        if op.get("map") in maps:
            volumes |= {maps[op["map"]].source, maps[op["map"]].target}
        if group is not None:  # a group operation: every member's volumes
            volumes |= {v for r in maps.values() if r.group == group for v in (r.source, r.target)}
        open_maps = {n: maps[n] for n in self.uncertain if n in maps} | self.ghosts
        for name, r in open_maps.items():
            if name in named or (group is not None and r.group == group):
                return True
            if {r.source, r.target} & volumes:
                return True
        return False


__all__ = ["ACTIVE", "Entry", "Session"]
