"""The mapping state machine in Z3: every state is reachable and none is a trap.

`model.machine` lists the legal transitions (from, cause, to). Here they become a Z3 relation
over an enumeration sort of states, and two claims are checked by bounded unrolling (a path
through the machine never needs more steps than there are states):

- reachable: every state can be reached from idle_or_copied;
- no trap: from every state, idle_or_copied (or deletion) can be reached again.

A wrong table (a control) must fail one of them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import z3

from model.machine import DELETED, IDLE, STATES, TRANSITIONS

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


def check_machine(table: frozenset[tuple[str, str, str]] = TRANSITIONS) -> list[Outcome]:
    """Reachability and absence of traps for a transition table."""
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
    return out


def without(table: frozenset[tuple[str, str, str]], doomed: str) -> frozenset:
    """A table with every transition out of one state removed (a control)."""
    return frozenset(t for t in table if t[0] != doomed)
