"""What a campaign reached, and whether that is enough for a verdict.

Every operation is counted per rule: the operation, the state its map was in (per the
specification), and how it ended (accepted, or the refusal code). A campaign must also reach
every goal whose parts the implementation declares it supports — an accepted start, a cascade
of three targets, a stop of a middle target, a restore, a multi-member group start, an
incremental restart, a completed background copy, every injected event and so on. A campaign
that finds nothing wrong but misses a goal is `inconclusive`, never `conforms`: refusing
everything must not look like conforming.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from model.vocabulary import FAULTS, REQUESTS

from ..core.hello import Hello
from ..core.session import Entry

Test = Callable[["Coverage", Entry, dict[str, Any]], bool]


@dataclass(frozen=True)
class Goal:
    """Something a campaign must reach when the implementation supports all of `needs`."""

    name: str
    needs: tuple[str, ...]
    test: Test


def _ok(op: str) -> Test:
    return lambda c, e, s: e.request.get("op") == op and bool(s.get("ok"))


def _event(cause: str, ops: tuple[str, ...] = ()) -> Test:
    def test(c: Coverage, e: Entry, s: dict[str, Any]) -> bool:
        if ops and e.request.get("op") not in ops:
            return False
        return any(ev["cause"] == cause for ev in s.get("events", []))

    return test


def _copied(kind: str) -> Test:
    return lambda c, e, s: any(x["kind"] == kind for x in s.get("copies", []))


def _copies_into(kind: str, at_least: int) -> Test:
    """One operation made copies of `kind` into at least this many different targets (as the
    specification has it): a rule that serves only the first few readers is exercised."""
    return lambda c, e, s: (
        len({x["to"] for x in s.get("copies", []) if x["kind"] == kind}) >= at_least
    )


def _cow_beyond(grain: int) -> Test:
    return lambda c, e, s: any(
        x["kind"] == "cow" and x["grain"] >= grain for x in s.get("copies", [])
    )


def _group_started(at_least: int) -> Test:
    """A group start that started at least this many members."""
    return lambda c, e, s: (
        e.request.get("op") == "start_group"
        and sum(ev["cause"] == "start" for ev in s.get("events", [])) >= at_least
    )


def _listed(op: str, key: str, at_least: int) -> Test:
    """An answer to `op` whose list `key` has at least this many entries."""
    return lambda c, e, s: e.request.get("op") == op and len(s.get(key, [])) >= at_least


def _exercised(name: str) -> Test:
    return lambda c, e, s: name in c.now


# a source heading a cascade of each type, restored: one frozen head per cascade
TWO_KINDS_RESTORED = (
    "start",
    "start.restore",
    "create_map.type=clone",
    "create_map.type=snapshot",
    "policy=per-type",
)

GOALS: tuple[Goal, ...] = (
    # required of every implementation: without an accepted start nothing of point-in-time
    # copy was verified, whatever the implementation declares
    Goal(
        "a point-in-time copy started",
        (),
        lambda c, e, s: e.request.get("op") in ("start", "start_group") and bool(s.get("ok")),
    ),
    *(
        Goal(f"{op} accepted", (op,), _ok(op))
        for op in REQUESTS
        if op not in ("hello", "internals")
    ),
    Goal("a cascade of three targets", ("start",), lambda c, e, s: c.deepest >= 3),
    Goal(
        "a stop of a middle target (cleaning)",
        ("stop",),
        lambda c, e, s: e.request.get("op") == "stop" and s.get("state") == "stopping",
    ),
    # cleaning moves a grain a dependent still reads out of a stopping target: no dependents, no
    # cleaning (redirect-on-write engines; the specification's catching up is not theirs)
    Goal("a cleaning copy", ("stop", "dependency_states"), _copied("clean")),
    Goal("a forced stop that stops dependents", ("stop", "stop.force"), _event("dependent")),
    # a split cuts out a complete copy still in its cascade: one that waits for a dependent
    Goal("a split", ("stop", "stop.split", "dependency_states"), _event("split")),
    Goal(
        "a restore",
        ("start", "start.restore"),
        lambda c, e, s: e.request.get("op") == "start" and s.get("restoring") is True,
    ),
    Goal(
        "a restore started by its group",
        ("start.restore", "create_group", "start_group", "start_group.restore", "status"),
        lambda c, e, s: (
            e.request.get("op") == "status" and s.get("restoring") is True and bool(s.get("group"))
        ),
    ),
    Goal("a multi-member group start", ("start_group", "group_multi"), _group_started(2)),
    Goal(
        "a group start of five or more members", ("start_group", "group_multi"), _group_started(5)
    ),
    # counts a rule may get right only for small ones: readers of one write, frozen heads a
    # copy into a restored volume preserves for, grains of a volume
    Goal(
        "a copy-on-write into three targets at once",
        (*TWO_KINDS_RESTORED, "cascade_from_target"),
        _copies_into("cow", 3),
    ),
    # made by copies into the restored volume (its background copy, cleaning into it), which
    # the specification makes at an own-paced implementation's pace, outside any operation
    Goal(
        "preservation copies for two frozen heads at once",
        (*TWO_KINDS_RESTORED, "copy", "pace=exact"),
        _copies_into("clean", 2),
    ),
    Goal("a copy-on-write beyond the fourth grain", ("start",), _cow_beyond(4)),
    # and lists an answer may get right only while short
    Goal(
        "a cascades answer listing four cascades",
        ("start", "cascades"),
        _listed("cascades", "cascades", 4),
    ),
    Goal(
        "a dependents answer listing three maps",
        ("start", "dependents", "dependency_states"),
        _listed("dependents", "maps", 3),
    ),
    Goal(
        "a start of a map prepared beforehand",
        ("prepare", "start"),
        lambda c, e, s: (
            e.request.get("op") in ("start", "start_group")
            and any(v["from"] == "prepared" and v["cause"] == "start" for v in s.get("events", []))
            and not any(v["cause"] == "prepare" for v in s.get("events", []))
        ),
    ),
    Goal("a restart", ("start", "restart"), _exercised("restart")),
    Goal(
        "an incremental restart",
        ("start", "restart", "create_map.incremental"),
        _exercised("incremental restart"),
    ),
    Goal(
        "a cascade of cascades",
        ("start", "cascade_from_target"),
        _exercised("cascade_from_target"),
    ),
    Goal("a completed background copy", ("copy",), _event("completed", ("copy", "settle"))),
    Goal("an autodelete", ("create_map.autodelete",), _event("autodelete")),
    Goal("a copy-on-write", ("start",), _copied("cow")),
    Goal("a partial-grain fill", ("start",), _copied("fill")),
    *(
        Goal(f"an injected {event}", ("inject", f"inject.event={event}"), _event(event))
        for event in FAULTS
    ),
    Goal(
        "the mixed policy",
        ("reset.policy=mixed",),
        lambda c, e, s: (
            e.request.get("op") == "reset"
            and e.request.get("policy") == "mixed"
            and bool(s.get("ok"))
        ),
    ),
)


@dataclass
class Coverage:
    """Counts per rule and state, goals reached, what was skipped."""

    by_rule: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    hits: Counter[str] = field(default_factory=Counter)  # how often each goal was met
    reached: set[str] = field(default_factory=set)
    skipped: Counter[str] = field(default_factory=Counter)
    deepest: int = 0
    faults: list[str] = field(default_factory=list)
    incremental: set[str] = field(default_factory=set)
    started: set[str] = field(default_factory=set)
    sequence: set[str] = field(default_factory=set)  # goals the current sequence reached
    current: set[str] = field(default_factory=set)  # what the operation being sent exercises
    now: set[str] = field(default_factory=set)  # what the step being counted exercised

    def step(self, entry: Entry, state_before: str | None, spec_answer: dict[str, Any]) -> None:
        """Count one operation the specification answered."""
        op = entry.request.get("op", "?")
        outcome = "accepted" if spec_answer.get("ok") else str(spec_answer.get("error"))
        self.by_rule[(str(op), state_before or "-", outcome)] += 1
        self.now = set(self.current) if spec_answer.get("ok") else set()
        if spec_answer.get("ok"):
            self._follow(entry.request, spec_answer)
        for goal in GOALS:
            if goal.test(self, entry, spec_answer):
                self.hits[goal.name] += 1
                self.sequence.add(goal.name)
                self.reached.add(goal.name)

    def new_sequence(self) -> float:
        """Start counting a new sequence's goals; the last one's count (Hypothesis targets it:
        sequences that reach more of what matters are mutated further)."""
        score = float(len(self.sequence))
        self.sequence = set()
        return score

    def _follow(self, request: dict[str, Any], answer: dict[str, Any]) -> None:
        if request.get("op") == "create_map" and request.get("incremental"):
            self.incremental.add(request["map"])
        for ev in answer.get("events", []):
            if ev["cause"] == "start":
                if ev["map"] in self.started and ev["map"] in self.incremental:
                    self.now.add("incremental restart")
                self.started.add(ev["map"])

    def depth(self, spec: Any) -> None:
        """The deepest cascade so far, as the specification engine has it."""
        a = spec.request({"op": "cascades"})
        depth = max((len(c["volumes"]) - 1 for c in a.get("cascades", [])), default=0)
        self.deepest = max(self.deepest, depth)

    @contextmanager
    def exercising(self, names: set[str]) -> Iterator[None]:
        """An operation that exercises these declared names is being sent: a goal about them
        is met by its step (if accepted), not by every later one."""
        self.current = names
        try:
            yield
        finally:
            self.current = set()

    def required(self, hello: Hello, policies: tuple[str, ...] | None = None) -> list[Goal]:
        """The goals the implementation's declarations (and the policies the campaign runs,
        by default every one it declares) make mandatory."""
        runs = hello.policies if policies is None else policies

        def has(need: str) -> bool:
            if need.startswith("policy="):
                return need.partition("=")[2] in runs
            if need.startswith("pace="):
                return hello.pace == need.partition("=")[2]
            return hello.supports(need)

        return [g for g in GOALS if all(has(n) for n in g.needs)]

    def missing(self, hello: Hello, policies: tuple[str, ...] | None = None) -> list[str]:
        """Mandatory goals not reached."""
        return [g.name for g in self.required(hello, policies) if g.name not in self.reached]

    def table(self) -> list[dict[str, Any]]:
        """The per-rule counts, for reports."""
        return [
            {"op": op, "state": state, "outcome": outcome, "count": n}
            for (op, state, outcome), n in sorted(self.by_rule.items())
        ]
