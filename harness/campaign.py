"""A conformance campaign: Hypothesis runs the state machine; a failure is shrunk, saved, explained.

`run_campaign` returns a `Verdict`: conforms, nonconformance (with the shrunk trace and its
explanation in words) or driver failure (crashed, hung, garbage, out of order: the trace so far).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import reporting as hypothesis_reporting
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import Flaky
from hypothesis.internal.conjecture import engine as hypothesis_engine
from hypothesis.stateful import run_state_machine_as_test

from .drivers import Driver, DriverError
from .generate import machine_for
from .record import DriverBroke, Record
from .session import Capabilities, Nonconformance

SLOW_SHRINK_WARNING = "WARNING: Hypothesis has spent more than five minutes working to shrink"


@dataclass
class Verdict:
    """The outcome of a campaign."""

    status: str  # conforms | nonconformance | driver_error
    driver: str
    examples: int
    steps: int
    seconds: float
    fired: Counter[str] = field(default_factory=Counter)
    deepest: int = 0
    problem: str = ""
    kind: str = ""
    explanation: str = ""
    trace: dict[str, Any] | None = None
    trace_path: str = ""
    seed: int | None = None
    database: str = ""
    shrink_capped: bool = False  # shrinking stopped at shrink_seconds: the trace may be longer

    @property
    def exit_code(self) -> int:
        """0 conforms, 1 nonconformance, 2 driver error."""
        return {"conforms": 0, "nonconformance": 1}.get(self.status, 2)

    def summary(self) -> dict[str, Any]:
        """For --json."""
        return {k: v for k, v in self.__dict__.items() if k != "trace"} | {
            "fired": dict(self.fired),
            "exit_code": self.exit_code,
        }


def trace_of(
    log: list[dict[str, Any]], grain_size: int, policy: str, err: Nonconformance | None = None
) -> dict[str, Any]:
    """The log of a run as a trace file: each operation expects the answer it got (accepted
    or refused by name), except the failing one, which expects what the specification says;
    a wrong image ends with a read that expects the right data."""
    ops = []
    for entry in log:
        request = dict(entry["request"])
        if request["op"] == "reset":
            continue
        answer = entry["answer"]
        if answer.get("ok"):
            expect: dict[str, Any] = {"ok": True}
        else:
            expect = {"ok": False, "error": answer.get("error")}
        ops.append({**request, "expect": expect})
    if err is not None and err.expect is not None and ops:
        ops[-1]["expect"] = err.expect
    if err is not None and err.probe is not None:
        ops.append(err.probe)
    return {
        "format": "cascadecheck/trace-1",
        "grain_size": grain_size,
        "policy": policy,
        "ops": ops,
    }


def explain(log: list[dict[str, Any]], err: Nonconformance) -> str:
    """A wrong read in words: where the expected and the observed data came from."""
    if err.kind != "image" or err.volume is None:
        return err.message
    requests = [e["request"] for e in log if e["request"]["op"] != "reset"]

    def origin(token: Any) -> str:
        if token in ("", None):
            return "never written"
        for step, op in enumerate(requests, start=1):
            if op["op"] == "write" and token in op["data"]:
                return f"written to {op['volume']} at step {step}"
        return "not written by this run"

    captured = ""
    maps = {op["map"]: op for op in requests if op["op"] == "create_map"}
    for step, op in enumerate(requests, start=1):
        if op["op"] == "start" and maps.get(op["map"], {}).get("target") == err.volume:
            captured = f", captured when {err.volume} started at step {step}"
    return (
        f"volume {err.volume} block {err.block}: expected {err.expected!r} — "
        f"{origin(err.expected)}{captured} — got {err.got!r} ({origin(err.got)})"
    )


def run_campaign(
    open_driver: Callable[[], Driver],
    *,
    examples: int = 100,
    steps: int = 40,
    seed_value: int | None = None,
    policy: str = "per-type",
    step_check: bool = True,
    save_to: str | Path | None = None,
    database: str | Path | None = None,
    shrink_seconds: int = 30,
    on_example: Callable[[Record], None] | None = None,
) -> Verdict:
    """Run the state machine against an implementation until it fails or the budget is spent.
    Shrinking stops after `shrink_seconds` (Hypothesis's own limit is five minutes, too long
    for a CI gate; the trace is then a little longer, never wrong)."""
    began = time.perf_counter()
    driver = open_driver()
    hello = driver.request({"op": "hello"})
    if not hello.get("ok"):
        driver.close()
        raise DriverError("unavailable", f"hello was refused: {hello}")
    caps = Capabilities.from_hello(hello)
    if policy not in caps.policies:
        policy = caps.policies[0]
    record = Record(open_driver, caps, policy, step_check, driver=driver, on_example=on_example)
    machine = machine_for(record)
    if seed_value is not None:
        machine = seed(seed_value)(machine)
    db = DirectoryBasedExampleDatabase(str(database)) if database else None
    config = settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        database=db,
        print_blob=False,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    )
    verdict = Verdict(
        "conforms", caps.name, examples, 0, 0.0, seed=seed_value, database=str(database or "")
    )
    shrink_limit = hypothesis_engine.MAX_SHRINKING_SECONDS  # internal; pinned in pyproject
    hypothesis_engine.MAX_SHRINKING_SECONDS = shrink_seconds

    def reporter(value: object) -> None:
        """Hypothesis's own output, less its warning for the shrink cap set here (it speaks
        of five minutes, its own limit): the verdict says it instead."""
        if isinstance(value, str) and value.startswith(SLOW_SHRINK_WARNING):
            verdict.shrink_capped = True
        else:
            hypothesis_reporting.default(value)

    try:
        with hypothesis_reporting.with_reporter(reporter):
            run_state_machine_as_test(machine, settings=config)
    except Nonconformance as err:
        verdict.status, verdict.kind, verdict.problem = "nonconformance", err.kind, err.message
        verdict.explanation = explain(record.log, err)
        verdict.trace = trace_of(record.log, record.grain_size, policy, err)
    except DriverBroke as broke:
        err = broke.error
        verdict.status, verdict.kind, verdict.problem = "driver_error", err.verdict, str(err)
        verdict.trace = trace_of(record.broken_log or record.log, record.grain_size, policy)
    except Flaky as err:
        verdict.status, verdict.kind = "nonconformance", "flaky"
        verdict.problem = f"the implementation did not fail the same way twice: {err}"
        verdict.trace = trace_of(record.log, record.grain_size, policy)
    finally:
        hypothesis_engine.MAX_SHRINKING_SECONDS = shrink_limit
        if record.driver is not None:
            record.driver.close()
    verdict.steps, verdict.fired, verdict.deepest = record.steps, record.fired, record.deepest
    verdict.seconds = time.perf_counter() - began
    if verdict.trace is not None and save_to is not None:
        path = Path(save_to)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(verdict.trace, indent=1) + "\n")
        verdict.trace_path = str(path)
    return verdict
