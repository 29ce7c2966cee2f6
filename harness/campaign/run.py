"""A conformance campaign: the scenario corpus first, then Hypothesis; a failure is shrunk, saved
and explained; a clean run is `conforms` only if it reached what the implementation declares.

`run_campaign` never raises for anything the implementation does: it returns a `Verdict` —
conforms, nonconformance (with the shrunk trace and its explanation), inconclusive (with the
goals not reached), driver_error (crashed, timeout, garbage, out_of_order, unavailable: with
the trace up to the request that got no answer) or interrupted.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypothesis.database import ExampleDatabase
from hypothesis.errors import Flaky

from ..core.errors import InternalError, Nonconformance
from ..core.hello import Hello, HelloError
from ..core.session import Entry
from ..drivers import Driver, DriverError, open_spec
from ..generate import DriverBroke, Options, Record
from ..generate.domain import values
from ..trace.format import TraceError, load_trace
from .corpus import Outcome, corpus_files, run_trace
from .database import DatabaseError, open_database
from .evidence import attempt, operations, trace_of
from .explain import explain
from .plan import CampaignStopped, Plan
from .rounds import run_hypothesis
from .shrink import minimize
from .verdict import Verdict


def run_campaign(open_driver: Callable[[], Driver], plan: Plan | None = None, **kw: Any) -> Verdict:
    """Check one implementation; see the module's docstring."""
    plan = plan or Plan(**kw)
    began = time.perf_counter()
    verdict = Verdict("conforms", "?", budget=plan.examples, seed=plan.seed)
    verdict.duration = plan.duration
    verdict.database = str(plan.database or "")
    try:
        database = _database(plan)
    except DatabaseError as err:
        verdict.status, verdict.kind, verdict.problem = "usage_error", "database", str(err)
        return verdict
    try:
        record = _open(open_driver, plan, verdict)
    except _Stop:
        verdict.seconds = time.perf_counter() - began
        return verdict
    try:
        _corpus_then_campaign(record, plan, verdict, database)
    except CampaignStopped:  # another worker found a failure first: it reports it
        verdict.status, verdict.problem = "stopped", "stopped: another worker found a failure"
    except InternalError:
        raise
    except Exception as err:  # a bug of cascadecheck's own: said as one, with the details kept
        details = Path(tempfile.gettempdir()) / f"cascadecheck-internal-{os.getpid()}.txt"
        details.write_text(traceback.format_exc())
        raise InternalError(f"{type(err).__name__}: {err} (the details are in {details})") from err
    except KeyboardInterrupt:
        verdict.status, verdict.problem = "interrupted", "interrupted by the user"
        verdict.trace = trace_of(record.log, record.grain_size, record.policy)
    finally:
        record.close()
    _coverage(record, verdict)
    if verdict.status == "conforms" and verdict.missing:
        verdict.status = "inconclusive"
        verdict.problem = "not reached: " + ", ".join(verdict.missing)
    verdict.seconds = time.perf_counter() - began
    _save(verdict, plan)
    return verdict


class _Stop(Exception):
    """The campaign cannot start; the verdict says why."""


def _open(open_driver: Callable[[], Driver], plan: Plan, verdict: Verdict) -> Record:
    try:
        sut = open_driver()
    except DriverError as err:
        verdict.status, verdict.kind, verdict.problem = "driver_error", err.verdict, err.message
        raise _Stop from None
    verdict.driver = getattr(sut, "name", "?")
    try:
        hello = Hello.parse(sut.request({"op": "hello"}))
    except DriverError as err:
        sut.close()
        verdict.status, verdict.kind, verdict.problem = "driver_error", err.verdict, err.message
        raise _Stop from None
    except HelloError as err:
        sut.close()
        verdict.status, verdict.kind, verdict.problem = "nonconformance", "malformed", str(err)
        raise _Stop from None
    verdict.driver = hello.name
    policies = hello.policies
    if plan.policy is not None:
        policies = tuple(p for p in policies if p == plan.policy) or policies[:1]
    options = Options(plan.step_check, plan.observe_every_step, policies)
    record = Record(open_driver, open_spec, hello, options, sut=sut, on_example=plan.on_example)
    verdict.not_verified = hello.not_verified()
    return record


def _database(plan: Plan) -> ExampleDatabase | None:
    if isinstance(plan.database, ExampleDatabase) or plan.database is None:
        return plan.database
    return open_database(plan.database)


def _corpus_then_campaign(
    record: Record, plan: Plan, verdict: Verdict, database: ExampleDatabase | None
) -> None:
    folders = list(plan.corpus) + ([plan.regressions] if plan.regressions else [])
    try:
        for path in corpus_files(folders):
            if not _run_scenario(record, path, verdict):
                return
        run_hypothesis(record, plan, verdict, database)
    except Nonconformance as err:
        if plan.on_found is not None:
            plan.on_found()
        _failed(record, plan, verdict, err)
    except DriverBroke as broke:
        if plan.on_found is not None:
            plan.on_found()
        err = broke.error
        verdict.status, verdict.kind, verdict.problem = "driver_error", err.verdict, err.message
        transcript = record.transcript()
        first = next((e.request for e in transcript if e.request.get("op") == "reset"), {})
        verdict.trace = trace_of(
            transcript,
            first.get("grain_size", record.grain_size),
            first.get("policy", record.policy),
            probes=True,
        )
    except Flaky as err:
        if plan.on_found is not None:
            plan.on_found()
        verdict.status, verdict.kind = "nonconformance", "flaky"
        verdict.problem = f"the implementation did not fail the same way twice: {err}"
        verdict.trace = trace_of(record.log, record.grain_size, record.policy)


def _run_scenario(record: Record, path: Path, verdict: Verdict) -> bool:
    """One corpus trace; False once it failed (the verdict then holds the failure)."""
    try:
        trace = load_trace(path)
    except TraceError as err:
        verdict.corpus.append(Outcome(str(path), "unreadable", str(err)).__dict__)
        return True
    try:
        skipped = run_trace(record, trace)
    except Nonconformance:
        verdict.corpus.append(Outcome(str(path), "failed").__dict__)
        verdict.found_by = f"corpus:{path.name}"
        raise
    verdict.corpus.append(
        Outcome(str(path), "skipped" if skipped else "passed", skipped or "").__dict__
    )
    return True


def _failed(record: Record, plan: Plan, verdict: Verdict, err: Nonconformance) -> None:
    """Shrink the failing run with delta debugging, check it on a fresh instance, keep it."""
    began = time.perf_counter()
    gs, policy = record.grain_size, record.policy
    ops = operations(record.log)
    kind = err.kind
    verdict.shrink["from_ops"] = len(ops)
    # the operations up to the one that failed, which becomes the last: a failure in an
    # observation keeps that one observation, not the whole sweep around it
    observe = not _ends_in_failure(record, ops, gs, policy, kind)

    def fails(candidate: list[dict[str, Any]]) -> bool:
        result = attempt(record, candidate, gs, policy, observe=observe)
        return result.error is not None and result.error.kind == kind

    small = minimize(ops, fails, max(1.0, plan.shrink_seconds * 2 / 3))
    final = attempt(record, small, gs, policy, observe=observe)
    if final.error is None or final.error.kind != kind:  # keep the unshrunk run
        small, final = ops, attempt(record, ops, gs, policy, observe=observe)
    fresh_sut = None
    try:
        fresh_sut = record.open_sut()
        fresh = attempt(record, small, gs, policy, sut=fresh_sut, observe=observe)
        verdict.shrink["replays_on_fresh_instance"] = fresh.error is not None
    except DriverError:
        verdict.shrink["replays_on_fresh_instance"] = False
    finally:
        if fresh_sut is not None:
            with contextlib.suppress(DriverError):
                fresh_sut.close()
    error = final.error or err
    log = final.log if final.error is not None else record.log
    if error.kind == "step":  # seen on exposed internals: find what a host would see of it
        witness = _host_visible(record, small, gs, policy)
        verdict.shrink["host_visible"] = witness is not None
        if witness is not None:
            log = witness
    verdict.status, verdict.kind, verdict.problem = "nonconformance", error.kind, error.message
    verdict.explanation = explain(operations(log), error)
    verdict.trace = trace_of(log, gs, policy, {"problem": error.message})
    verdict.shrink.update(to_ops=len(small), seconds=round(time.perf_counter() - began, 2))


def _host_visible(
    record: Record, ops: list[dict[str, Any]], gs: int, policy: str
) -> list[Entry] | None:
    """The run of `ops` and a full observation with the step check off, if it fails: a trace
    whose expectations a replay checks without internals (`cascadecheck replay` compares
    answers only). None when the fault shows only in the internals."""
    options = record.options
    record.options = replace(options, step_check=False)
    try:
        result = attempt(record, ops, gs, policy, observe=True)
    finally:
        record.options = options
    return result.log if result.error is not None else None


def _ends_in_failure(
    record: Record, ops: list[dict[str, Any]], gs: int, policy: str, kind: str
) -> bool:
    """Whether `ops` (whose last is the one that failed) fail without a final observation."""
    return bool(ops) and (
        (result := attempt(record, ops, gs, policy, observe=False)).error is not None
        and result.error.kind == kind
    )


def _coverage(record: Record, verdict: Verdict) -> None:
    cov = record.coverage
    verdict.sequences, verdict.steps, verdict.deepest = record.sequences, record.steps, cov.deepest
    verdict.reached = sorted(cov.reached)
    verdict.goal_hits = dict(sorted(cov.hits.items()))
    # kept whatever the status: workers merge it
    verdict.missing = cov.missing(record.hello, record.options.policies)
    verdict.skipped = dict(cov.skipped)
    verdict.by_rule = cov.table()
    verdict.domain = values(record.domain)
    verdict.domain_gaps = record.domain.gaps()
    verdict.faults = list(record.session.faults) if record.session else []
    verdict.close_errors = record.close_errors[:5]


def _save(verdict: Verdict, plan: Plan) -> None:
    """The counterexample to `save_to`, and into the regression corpus."""
    if verdict.trace is None:
        return
    text = json.dumps(verdict.trace, indent=1) + "\n"
    if plan.save_to is not None:
        path = Path(plan.save_to)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            verdict.trace_path = str(path)
        except OSError as err:
            verdict.explanation += f"\n(the trace could not be saved to {path}: {err})"
    if plan.regressions is not None and verdict.status == "nonconformance":
        try:
            plan.regressions.mkdir(parents=True, exist_ok=True)
            name = f"{verdict.kind}-{abs(hash(text)) % 10**8:08d}.json"
            (plan.regressions / name).write_text(text)
        except OSError:
            pass
