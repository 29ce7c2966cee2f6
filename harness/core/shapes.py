"""Which declarable parts of the vocabulary an operation would exercise, here and now.

An implementation's hello may declare operations, optional fields, choices and shapes
unsupported (`model.vocabulary.SHAPES`). Before the generator sends an operation it asks
`uses` what the operation would exercise in the current state (followed from the
specification), and skips it if the implementation declared any of that unsupported.
"""

from __future__ import annotations

from typing import Any

from model.vocabulary import REQUESTS, map_type

from .session import ACTIVE, Session


def _members(session: Session, op: dict[str, Any]) -> list[str]:
    """The maps a start or prepare would start: the named map, or the group's members."""
    maps = session.oracle.maps
    if op["op"] in ("start", "prepare"):
        return [op["map"]] if op.get("map") in maps else []
    if op["op"] == "start_group":
        return [n for n, r in maps.items() if r.group == op.get("group")]
    return []


def uses(session: Session, op: dict[str, Any]) -> set[str]:
    """Every operation, `op.field`, `op.field=value` and shape the operation exercises."""
    kind = op["op"]
    out = {kind}
    fields = REQUESTS.get(kind, {})
    for key, value in op.items():
        if key in fields and not fields[key].required:
            out.add(f"{kind}.{key}")
        if key in fields and fields[key].kind == "choice":
            out.add(f"{kind}.{key}={value}")
    if kind == "create_map":  # a type left out is detected from the rate: it is still asked
        out.add(f"create_map.type={map_type(op)}")
    members = _members(session, op)
    maps = session.oracle.maps
    active_targets = {r.target for r in maps.values() if r.state in ACTIVE}
    if any(m in session.started for m in members):
        out.add("restart")
    if any(maps[m].source in active_targets for m in members):
        out.add("cascade_from_target")
    if kind == "start_group" and len(members) > 1:
        out.add("group_multi")
    if session.involves_uncertain(op) or _stops_a_complete_copy(session, op):
        out.add("dependency_states")
    return out


def _stops_a_complete_copy(session: Session, op: dict[str, Any]) -> bool:
    """A stop of a map whose target holds every grain while it still copies (it waits for a
    dependent; a snapshot whose every grain was copied on write): the specification leaves
    it idle, and an engine without cascade dependencies, whose map never completes that
    way, stopped — the outcome follows dependency states."""
    maps = session.oracle.maps
    if op["op"] == "stop":
        names = [op.get("map")]
    elif op["op"] == "stop_group":
        names = [n for n, r in maps.items() if r.group == op.get("group")]
    else:
        return False
    for name in names:
        if name in maps and maps[name].state in ACTIVE:
            status = session.spec.request({"op": "status", "map": name})
            if status.get("ok") and status["progress"] == 100:
                return True
    return False


def allowed(session: Session, op: dict[str, Any]) -> tuple[bool, set[str]]:
    """Whether the implementation supports everything the operation exercises (and what it
    does not)."""
    missing = {name for name in uses(session, op) if not session.hello.supports(name)}
    return not missing, missing
