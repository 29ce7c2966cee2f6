"""The whole proof suite: every obligation, every negative control, one verdict.

An obligation passes when it is proved. A control passes (for the suite) when the obligation
it targets *fails* under the wrong rule; a control that proves is a suite failure, since it
means the obligation cannot tell right from wrong. Tasks are independent, so they run in
worker processes (Z3 terms are rebuilt in each worker): the parts of the pass over the step
obligations (here), every other obligation (`proofs/catalogue.py`), and every control
(`proofs/control_tasks.py`).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any

from model.rules import Spec

from .catalogue import OBLIGATION_NAMES, obligation_task, run_obligation
from .control_tasks import CONTROL_NAMES, control_settings, control_task, targets_of
from .coverage import Settings, groups, situations
from .obligations import STEP_OBLIGATIONS
from .report import PER_TYPE_CLAIMS, Row, outcome_row, passed, policy_row
from .sweep import Tally, merged, tally, verdict
from .verdicts import Failure, rules_fail

STEPS = {o.name: o for o in STEP_OBLIGATIONS}


def sweep_task(args: tuple[str, tuple[str, ...], int, int, Settings]) -> list[Tally]:
    """Worker: one part (every `parts`-th situation from `index`) of the pass that checks these
    step obligations together (`proofs/sweep.py`)."""
    over, names, index, parts, s = args
    spec = Spec(s.policy)
    try:
        every = list(groups(spec, s) if over == "groups" else situations(spec, s))
    except Exception as err:  # the rules raise while the shapes are found: each fails, named
        return [Tally(failure=Failure(None, None, rules_fail(err))) for _ in names]
    return tally(spec, [STEPS[n] for n in names], every[index::parts])


def _sweeps(
    names: list[str], s: Settings, jobs: int
) -> list[tuple[str, tuple, int, int, Settings]]:
    """The step obligations as parts of two passes (over the covered shapes, and over the
    group situations), enough parts to keep every worker busy beside the controls."""
    spec = Spec(s.policy)
    out = []
    for over, every in (("shapes", situations), ("groups", groups)):
        these = tuple(n for n in names if STEPS[n].over == over)
        if these:
            try:
                count = len(list(every(spec, s)))  # enumerated here, once: workers inherit it
            except Exception:
                count = 0  # the rules raise while the shapes are found: the one part says so
            parts = max(1, min(4 * jobs, count // 25))
            out += [(over, these, i, parts, s) for i in range(parts)]
    return out


def _sweep_rows(parts: list[tuple[str, tuple, int, int, Settings]], results: list) -> list[Row]:
    """One row per step obligation, its parts' tallies merged (each pass's parts share one
    tuple of names)."""
    rows = []
    for over in ("shapes", "groups"):
        mine = [(p[1], r) for p, r in zip(parts, results, strict=True) if p[0] == over]
        if mine:
            names, tallies = mine[0][0], merged(r for _, r in mine)
            rows += [outcome_row(verdict(STEPS[n], t)) for n, t in zip(names, tallies, strict=True)]
    return rows


def run_suite(
    s: Settings,
    only: str | None = None,
    jobs: int = 2,
    progress: Callable[[Row], None] | None = None,
    controls: bool = True,
) -> list[Row]:
    """Every obligation and control (or those whose name contains `only`; no control unless
    `controls`: a specification under suspicion needs only its obligations). The step
    obligations are checked together, one pass over the shapes split into parts; every
    other obligation and every control is a task of its own."""
    chosen = [n for n in OBLIGATION_NAMES if not only or only in n]
    parts = _sweeps([n for n in chosen if n in STEPS], s, jobs)
    obligations = [(n, s) for n in chosen if n not in STEPS]
    chosen_controls = [
        (n, control_settings(s))
        for n in CONTROL_NAMES
        if controls and (not only or only in n or any(only in t for t in targets_of(n)))
    ]
    tasks: list[tuple[Callable[[Any], Any], Any]] = [(sweep_task, a) for a in parts]
    tasks += [(obligation_task, a) for a in obligations]
    tasks += [(control_task, a) for a in chosen_controls]
    if jobs <= 1:
        results = [fn(a) for fn, a in tasks]
    else:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(jobs) as pool:
            pending = [pool.apply_async(fn, (a,)) for fn, a in tasks]
            results = []
            for i, p in enumerate(pending):
                results.append(p.get())
                if progress and i >= len(parts):
                    for r in results[-1] if isinstance(results[-1], list) else [results[-1]]:
                        progress(r)
                elif progress and i == len(parts) - 1:
                    for r in _sweep_rows(parts, results[: len(parts)]):
                        progress(r)
    rows = _sweep_rows(parts, results[: len(parts)])
    for r in results[len(parts) :]:
        rows.extend(r if isinstance(r, list) else [r])
    return [policy_row(r) for r in rows] if s.policy != Settings.policy else rows


__all__ = [  # what callers use, wherever it is defined
    "CONTROL_NAMES",
    "OBLIGATION_NAMES",
    "PER_TYPE_CLAIMS",
    "Row",
    "Settings",
    "groups",
    "passed",
    "run_obligation",
    "run_suite",
    "situations",
]
