"""Every seeded mutant — inside the engine or a black box around it — is killed by the default
campaign, and the trace it saves passes on the reference engine and fails on the mutant."""

from __future__ import annotations

import tempfile
from multiprocessing import get_context
from pathlib import Path

from harness.campaign import Plan, run_campaign
from harness.drivers import open_driver
from harness.trace import load_trace, replay
from reference.mutants import MUTANTS
from reference.wrappers import WRAPPERS

ALL = sorted(
    [f"python:{c.__module__}:{c.__name__}" for c in MUTANTS.values()]
    + [f"python:{c.__module__}:{c.__name__}" for c in WRAPPERS]
)


def hunt(driver: str) -> tuple[str, str, str, int, bool, bool]:
    """One default campaign; (driver, status, kind, trace length, passes on the reference,
    fails on the mutant)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "cx.json"
        v = run_campaign(lambda: open_driver(driver), Plan(seed=1, save_to=out))
        if v.status != "nonconformance":
            return driver, v.status, v.problem, 0, False, False
        trace = load_trace(out)
        clean = not any(s.problem for s in replay(trace, open_driver("reference")))
        fails = any(s.problem for s in replay(trace, open_driver(driver)))
        return driver, v.status, v.kind, len(trace.ops), clean, fails


def test_every_mutant_is_killed_and_its_trace_replays_as_stated() -> None:
    with get_context("fork").Pool(2) as pool:
        results = pool.map(hunt, ALL)
    survivors = [r for r in results if r[1] != "nonconformance"]
    assert not survivors, survivors
    assert all(r[4] and r[5] for r in results), [r for r in results if not (r[4] and r[5])]
    lengths = sorted(r[3] for r in results)
    assert lengths[len(lengths) // 2] <= 10, lengths  # the median shrunk trace
