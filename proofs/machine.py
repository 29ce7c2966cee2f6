"""The mapping state machine in Z3: every state is reachable, none is a trap, the two tables
agree, and no transition takes a cascade position away unsafely.

`model.machine` lists the legal transitions (from, cause, to) and the commands each state
accepts. Here they become Z3 relations over enumeration sorts, and four claims are checked:

- reachable: every state can be reached from idle_or_copied (bounded unrolling: a path never
  needs more steps than there are states);
- no trap: from every state, idle_or_copied (or deletion) can be reached again;
- commands agree: every transition a command sets off starts in a state that accepts the
  command, and every accepted command sets something off there or is a listed no-op;
- positions safe: a position is only taken away by cleaning, completion, a split or a forced
  stop, and only given by the start of a prepared map;
- availability agrees (`model/availability.py`, the harness's oracle of which volumes take
  I/O): a target takes I/O exactly in the states the machine says it is online in, a source
  only outside `SOURCE_OFFLINE`, and every transition into a state where the target is offline
  for good loses its image.

A wrong table (a control) must fail one of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import z3

from model.availability import MapView, loses_image, offline_volumes
from model.machine import (
    ACCEPTS,
    BEGINS_POSITION,
    COMMAND_OF,
    COPYING,
    DELETED,
    ENDS_POSITION,
    FIRST_CAUSES,
    FOLLOW_ONS,
    HOLDS_POSITION,
    IDLE,
    NO_OPS,
    PREPARING,
    SOURCE_OFFLINE,
    STATES,
    STOPPED,
    STOPPING,
    SUSPENDED,
    TARGET_ONLINE,
    TRANSITIONS,
)

from .verdicts import Failure, Outcome

ALL = (*STATES, DELETED)


MapState, _VALUES = z3.EnumSort("MapState", ALL)
VALUE = dict(zip(ALL, _VALUES, strict=True))


def _path_exists(table: Iterable[tuple[str, str, str]], start: str, goals: tuple[str, ...]) -> bool:
    """Is there a path of at most |states| transitions from `start` to one of `goals`?"""
    sort, value = MapState, VALUE
    step = z3.Function("step", sort, sort, z3.BoolSort())
    solver = z3.Solver()
    a, b = z3.Consts("a b", sort)
    edges = [z3.And(a == value[f], b == value[t]) for f, _, t in table]
    solver.add(z3.ForAll([a, b], step(a, b) == z3.Or(*edges) if edges else z3.Not(step(a, b))))
    path = [z3.Const(f"s{i}", sort) for i in range(len(ALL))]
    solver.add(path[0] == value[start])
    for i in range(1, len(path)):
        solver.add(z3.Or(step(path[i - 1], path[i]), path[i] == path[i - 1]))
    reached = z3.Or(*[p == value[g] for p in path for g in goals])
    solver.add(reached)
    return solver.check() == z3.sat


def check_machine(
    table: frozenset[tuple[str, str, str]] = TRANSITIONS,
    accepts: dict[str, frozenset[str]] = ACCEPTS,
    offline: Callable[[list[MapView]], set[str]] = offline_volumes,
    loses: Callable[[str | None, str], bool] = loses_image,
) -> list[Outcome]:
    """Every claim about the machine's tables and the availability rules read with them."""
    out = []
    began = time.perf_counter()
    unreachable = [s for s in ALL if s != IDLE and not _path_exists(table, IDLE, (s,))]
    out.append(
        Outcome(
            "machine-reachable",
            "failed" if unreachable else "proved",
            time.perf_counter() - began,
            len(ALL) - 1,
            Failure(None, None, f"unreachable: {unreachable}") if unreachable else None,
        )
    )
    began = time.perf_counter()
    traps = [s for s in STATES if not _path_exists(table, s, (IDLE, DELETED))]
    out.append(
        Outcome(
            "machine-no-trap",
            "failed" if traps else "proved",
            time.perf_counter() - began,
            len(STATES),
            Failure(None, None, f"traps: {traps}") if traps else None,
        )
    )
    checks = [check_commands(table, accepts), check_positions(table)]
    return [*out, *checks, check_availability(offline, loses, table)]


Table = frozenset[tuple[str, str, str]]
Accepts = dict[str, frozenset[str]]


class _Relation:
    """A transition table as a Z3 relation: states an enumeration, causes numbered."""

    def __init__(self, table: Table) -> None:
        self.causes = sorted({c for _, c, _ in table} | set(COMMAND_OF) | FOLLOW_ONS)
        self.a, self.b = z3.Consts("a b", MapState)
        self.c = z3.Int("c")
        self.holds = z3.Or(
            z3.BoolVal(False),
            *[
                z3.And(self.a == VALUE[f], self.c == self.cause(x), self.b == VALUE[t])
                for f, x, t in table
            ],
        )

    def cause(self, name: str) -> int:
        """The number standing for a cause."""
        return self.causes.index(name)

    def state_in(self, x: z3.ExprRef, states: Iterable[str]) -> z3.BoolRef:
        """x is one of the states."""
        return z3.Or(z3.BoolVal(False), *[x == VALUE[s] for s in states])

    def cause_in(self, causes: Iterable[str]) -> z3.BoolRef:
        """The cause is one of these."""
        return z3.Or(z3.BoolVal(False), *[self.c == self.cause(x) for x in causes])

    def violations(self, bad: z3.BoolRef) -> list[tuple[str, str, str]]:
        """Every transition of the table at which `bad` holds (each model found is blocked and
        Z3 asked again)."""
        solver = z3.Solver()
        solver.add(self.holds, bad)
        found = []
        while solver.check() == z3.sat:
            m = solver.model()
            a, b, c = m.eval(self.a), m.eval(self.b), m.eval(self.c)
            found.append((str(a), self.causes[c.as_long()], str(b)))
            solver.add(z3.Not(z3.And(self.a == a, self.b == b, self.c == c)))
        return found

    def sets_off(self, state: str, causes: Iterable[str]) -> bool:
        """Some transition out of the state has one of the causes."""
        solver = z3.Solver()
        solver.add(self.holds, self.a == VALUE[state], self.cause_in(causes))
        return solver.check() == z3.sat


def check_commands(table: Table = TRANSITIONS, accepts: Accepts = ACCEPTS) -> Outcome:
    """Commands agree with transitions: a transition's cause is set off only where its command
    is accepted, and an accepted command sets off a transition there or is a listed no-op."""
    began = time.perf_counter()
    rel = _Relation(table)
    refused_there = [
        z3.And(
            rel.c == rel.cause(x),
            z3.Not(rel.state_in(rel.a, accepts.get(COMMAND_OF.get(x, ""), ()))),
        )
        for x in rel.causes
        if x not in FOLLOW_ONS
    ]
    unaccepted = rel.violations(z3.Or(z3.BoolVal(False), *refused_there))
    inert = [
        (command, state)
        for command, states in sorted(accepts.items())
        for state in sorted(states)
        if (command, state) not in NO_OPS and not rel.sets_off(state, FIRST_CAUSES.get(command, ()))
    ]
    problems = [f"{c} from {f}, where {COMMAND_OF.get(c, c)} is refused" for f, c, _ in unaccepted]
    problems += [f"{c} accepted in {s} sets nothing off and is no listed no-op" for c, s in inert]
    return Outcome(
        "machine-commands-agree",
        "failed" if problems else "proved",
        time.perf_counter() - began,
        1 + sum(len(v) for v in accepts.values()),
        Failure(None, None, "; ".join(problems)) if problems else None,
    )


def check_positions(table: Table = TRANSITIONS) -> Outcome:
    """Positions are safe: a transition from a state that holds a cascade position to one that
    does not is cleaning, completion, a split or a forced stop; one into such a state from
    outside is the start of a prepared map."""
    began = time.perf_counter()
    rel = _Relation(table)
    before = rel.state_in(rel.a, HOLDS_POSITION)
    after = rel.state_in(rel.b, HOLDS_POSITION)
    begins = z3.Or(
        z3.BoolVal(False),
        *[z3.And(rel.a == VALUE[f], rel.c == rel.cause(x)) for f, x in BEGINS_POSITION],
    )
    found = rel.violations(
        z3.Or(
            z3.And(before, z3.Not(after), z3.Not(rel.cause_in(ENDS_POSITION))),
            z3.And(z3.Not(before), after, z3.Not(begins)),
        )
    )
    detail = "unsafe: " + ", ".join(f"{f} -{c}-> {t}" for f, c, t in found)
    # vacuity: a table in which no position is ever given or taken says nothing about either
    if not found and not (rel.violations(z3.And(before, z3.Not(after))) and rel.violations(begins)):
        detail = "vacuous: no transition both gives and takes a position"
    return Outcome(
        "machine-positions-safe",
        "proved" if detail == "unsafe: " else "failed",
        time.perf_counter() - began,
        3,
        None if detail == "unsafe: " else Failure(None, None, detail),
    )


def without(table: frozenset[tuple[str, str, str]], doomed: str) -> frozenset:
    """A table with every transition out of one state removed (a control)."""
    return frozenset(t for t in table if t[0] != doomed)


Offline = Callable[[list[MapView]], set[str]]
Loses = Callable[[str | None, str], bool]


def check_availability(
    offline: Offline = offline_volumes, loses: Loses = loses_image, table: Table = TRANSITIONS
) -> Outcome:
    """Availability agrees with the machine: for one map in every state at progress 0, 50 and
    100, its target refuses I/O exactly where the machine says it is not online (stopping is
    online only at 100) and its source exactly in `SOURCE_OFFLINE`; and a change of state
    loses the target's image exactly when it enters a state where the target is offline
    whatever the progress, other than suspended (which returns) — from any state or none,
    taken by the table or reported by an implementation (the harness's oracle forgets the
    image on what `loses` says, so a loss too many is a check it stops making)."""
    began = time.perf_counter()
    problems = []
    for state in STATES:
        for progress in (0, 50, 100):
            down = offline([MapView("S", "T", state, progress)])
            online = state in TARGET_ONLINE or (state == STOPPING and progress == 100)
            if ("T" in down) == online:
                problems.append(f"target {'offline' if online else 'online'} in {state}@{progress}")
            if ("S" in down) != (state in SOURCE_OFFLINE):
                problems.append(f"source {'online' if 'S' not in down else 'offline'} in {state}")
    causes = {(before, state): cause for before, cause, state in sorted(table)}
    befores: tuple[str | None, ...] = (None, *STATES)
    for before in befores:
        for state in (*STATES, DELETED):
            gone = state not in (*TARGET_ONLINE, STOPPING, SUSPENDED, DELETED)
            lost = loses(before, state)
            if lost == (gone and before != state):
                continue
            arrow = f"-{causes.get((before, state), '')}->"
            wrong = "loses the target's image" if lost else "keeps an offline target's image"
            problems.append(f"{before} {arrow} {state} {wrong}")
    return Outcome(
        "machine-availability-agrees",
        "failed" if problems else "proved",
        time.perf_counter() - began,
        3 * len(STATES) + len(befores) * (len(STATES) + 1),
        Failure(None, None, "; ".join(sorted(set(problems)))) if problems else None,
    )


def _accepting(
    accepts: Accepts, command: str, change: Callable[[frozenset[str]], frozenset[str]]
) -> Accepts:
    """The accepts table with one command's states changed."""
    return {**accepts, command: change(accepts[command])}


@dataclass(frozen=True)
class MachineControl:
    """A wrong state-machine table or availability rule, and the obligations it must fail."""

    name: str
    what: str
    table: Table = TRANSITIONS
    accepts: Accepts = field(default_factory=lambda: ACCEPTS)
    offline: Offline = offline_volumes
    loses: Loses = loses_image
    must_fail: tuple[str, ...] = ()

    def outcomes(self) -> list[Outcome]:
        """The machine's obligations under this control's tables and rules."""
        return check_machine(self.table, self.accepts, self.offline, self.loses)


def _stopped_target_online(maps: list[MapView]) -> set[str]:
    """Control: availability that lets a stopped map's target take I/O."""
    return offline_volumes([m for m in maps if m.state != STOPPED])


def _prepare_keeps_image(old: str | None, new: str) -> bool:
    """Control: a prepare that does not lose the target's image."""
    return loses_image(old, new) and new != PREPARING


def _every_change_loses_image(old: str | None, new: str) -> bool:
    """Control: any change of state loses the target's image (a completed clone's too)."""
    return loses_image(old, new) or old != new


MACHINE_CONTROLS: dict[str, MachineControl] = {
    c.name: c
    for c in (
        MachineControl(
            "machine-preparing-stuck",
            "every transition out of preparing removed",
            without(TRANSITIONS, PREPARING),
            ACCEPTS,
            must_fail=("machine-reachable", "machine-no-trap"),
        ),
        MachineControl(
            "machine-suspended-trap",
            "every transition out of suspended removed",
            without(TRANSITIONS, SUSPENDED),
            ACCEPTS,
            must_fail=("machine-no-trap",),
        ),
        MachineControl(
            "machine-delete-running",
            "a copying map may be deleted: its position goes uncleaned",
            TRANSITIONS | {(COPYING, "deleted", DELETED)},
            _accepting(ACCEPTS, "delete", lambda s: s | {COPYING}),
            must_fail=("machine-positions-safe",),
        ),
        MachineControl(
            "machine-start-unprepared",
            "a stopped map starts without being prepared",
            TRANSITIONS | {(STOPPED, "start", COPYING)},
            ACCEPTS,
            must_fail=("machine-positions-safe",),
        ),
        MachineControl(
            "machine-accepts-inert",
            "prepare is accepted while copying, where it sets nothing off",
            TRANSITIONS,
            _accepting(ACCEPTS, "prepare", lambda s: s | {COPYING}),
            must_fail=("machine-commands-agree",),
        ),
        MachineControl(
            "machine-refuses-own-transition",
            "prepare is refused in stopped, though the table prepares a stopped map",
            TRANSITIONS,
            _accepting(ACCEPTS, "prepare", lambda s: s - {STOPPED}),
            must_fail=("machine-commands-agree",),
        ),
        MachineControl(
            "availability-stopped-online",
            "a stopped map's target takes I/O",
            offline=_stopped_target_online,
            loses=loses_image,
            must_fail=("machine-availability-agrees",),
        ),
        MachineControl(
            "availability-prepare-keeps-image",
            "a prepare keeps the target's image",
            offline=offline_volumes,
            loses=_prepare_keeps_image,
            must_fail=("machine-availability-agrees",),
        ),
        MachineControl(
            "availability-every-change-loses-image",
            "every change of state loses the target's image, completion and start too",
            offline=offline_volumes,
            loses=_every_change_loses_image,
            must_fail=("machine-availability-agrees",),
        ),
    )
}
