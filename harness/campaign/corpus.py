"""The deterministic floor: scenario traces replayed before anything is generated.

`check` first runs every scenario trace of the corpus — the scenarios shipped with
cascadecheck (`harness/scenarios/`), the counterexamples found before (the regression corpus,
`.cascadecheck/corpus/` by default) and any folder the user adds (`--corpus DIR`) — through
the same lockstep session as a generated sequence, with expectations from the specification
(a trace's own `expect`s are for `replay`), ending with a full observation. A scenario that
needs something the implementation does not support (an operation, flag, shape or policy) is
skipped and reported as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..core.shapes import allowed, uses
from ..drivers import DriverError
from ..generate.record import DriverBroke, Record
from ..trace.format import Trace

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@dataclass
class Outcome:
    """What one corpus trace did."""

    path: str
    result: str  # passed | failed | skipped | unreadable
    detail: str = ""


def corpus_files(folders: list[Path]) -> list[Path]:
    """Every trace file of the corpus folders, in a stable order."""
    out: list[Path] = []
    for folder in folders:
        if folder.is_file():
            out.append(folder)
        elif folder.is_dir():
            out.extend(sorted(folder.glob("*.json")))
    return out


def run_trace(record: Record, trace: Trace) -> str | None:
    """Run one trace in lockstep; None when it ran, else why it was skipped. Raises
    Nonconformance (or DriverBroke) when the implementation fails it."""
    if trace.policy not in record.hello.policies:
        return f"policy {trace.policy} not supported"
    low, high = record.hello.range("reset", "grain_size")
    if not low <= trace.grain_size <= high:
        return f"grain size {trace.grain_size} not supported"
    try:
        session = record.new_session(trace.grain_size, trace.policy)
    except DriverError as err:
        raise DriverBroke(err, []) from None
    try:
        for op in trace.ops:
            if op.catch_up:
                continue
            ok, missing = allowed(session, op.request)
            if not ok:
                return f"needs {', '.join(sorted(missing))}"
            names = uses(session, op.request)
            states = session.map_states()
            with record.coverage.exercising(names):
                answer = session.send(op.request)
            session.ask_after_changes(states)
            if op.request["op"] in ("start", "start_group") and answer.get("ok"):
                record.coverage.depth(session.spec)
        session.observe()
    except DriverError as err:
        record.broken = err
        raise DriverBroke(err, list(session.log)) from None
    finally:
        record.log = session.log
    return None
