"""A failing run as evidence: replayed on demand, and saved as a trace that expects only what
the specification says.

Every operation in a saved trace carries the expectation the specification gave it (the
refusal code, the fields of the answer, the data of a read), never what the implementation
answered; background time the specification needed to keep pace with an own-pace
implementation is marked `catch_up`. So a saved trace passes on the reference engine and
fails on the implementation, and it ends with the operation that failed (or was never
answered).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.errors import Nonconformance
from ..core.session import Entry, Session
from ..core.shapes import allowed
from ..drivers import Driver, DriverError
from ..generate.record import Record
from ..trace.format import FORMAT


@dataclass
class Attempt:
    """One replay of an operation list: the nonconformance it met (if any) and its log."""

    error: Nonconformance | None
    log: list[Entry]
    broke: DriverError | None = None


def operations(log: list[Entry]) -> list[dict[str, Any]]:
    """The operations a run sent (the session's own reset and catch-up time left out)."""
    out = [e.request for e in log if e.origin not in ("catch_up", "probe")]
    return out[1:] if out and out[0].get("op") == "reset" else out


def attempt(
    record: Record,
    ops: list[dict[str, Any]],
    grain_size: int,
    policy: str,
    sut: Driver | None = None,
    observe: bool = True,
) -> Attempt:
    """Replay `ops` from an empty system in lockstep, then (unless told not to) observe
    everything. A list in which some operation would exercise what the implementation
    declared unsupported (a shrinking candidate can: deleting an operation changes what a
    later one does) fails nothing: the generator would never have sent it, so it is no
    evidence."""
    if sut is None:
        record.new_session(grain_size, policy)
        assert record.session is not None
        session = record.session
    else:
        assert record.spec is not None
        session = Session(
            sut, record.spec, record.hello, grain_size, policy, step_check=record.options.step_check
        )
    try:
        for op in ops:
            if not allowed(session, op)[0]:
                return Attempt(None, session.log)
            session.send(op)
        if observe:
            session.observe()
    except Nonconformance as err:
        return Attempt(err, session.log)
    except DriverError as err:
        record.broken = err
        return Attempt(None, session.log, err)
    return Attempt(None, session.log)


def trace_of(
    log: list[Entry],
    grain_size: int,
    policy: str,
    extra: dict[str, Any] | None = None,
    probes: bool = False,
) -> dict[str, Any]:
    """The log of a run as a trace document: its evidence, or (`probes`) every request the
    implementation saw, for a driver that fails at the n-th request."""
    ops = []
    for entry in log[1:] if log and log[0].request.get("op") == "reset" else log:
        if entry.origin == "probe" and not probes:
            continue
        op = dict(entry.request)
        if entry.origin == "catch_up":
            op["catch_up"] = True
        if entry.expect is not None:
            op["expect"] = entry.expect
        ops.append(op)
    doc: dict[str, Any] = {"format": FORMAT, "grain_size": grain_size, "policy": policy}
    doc.update(extra or {})
    doc["ops"] = ops
    return doc
