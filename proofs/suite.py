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

from .asking import Tally
from .catalogue import OBLIGATION_NAMES, obligation_task, run_obligation
from .control_tasks import CONTROL_NAMES, control_settings, control_task, targets_of
from .coverage import Settings, groups, situations
from .obligations import STEP_OBLIGATIONS
from .report import PER_TYPE_CLAIMS, Row, outcome_row, passed, policy_row
from .sweep import tally, verdict
from .sweep_parallel import merged
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


def needs_shapes(obligation: str) -> bool:
    """Does checking this obligation walk the covered shapes of the run's n volumes? (The
    unbounded models, the state machine and the bounded search from empty do not.) Only where
    a task runs depends on it: a task that walks them in a worker forked before they were
    found finds them itself."""
    return not obligation.startswith(("unbounded-", "machine-")) and obligation != "bmc-from-empty"


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
    other obligation and every control is a task of its own.

    The shapes are found once, here, and workers forked afterwards inherit them; at three
    volumes that takes 16 s of one core. So two pools: the first, forked at once, takes the
    tasks that need no shapes of n volumes (the controls, which are checked at two, and the
    unbounded, machine and bounded-search obligations) while this process finds the shapes;
    the second, forked once they are found, takes the rest. The rows come in one order
    whichever pool ran them: the step obligations, the others, the controls."""
    chosen = [n for n in OBLIGATION_NAMES if not only or only in n]
    steps = [n for n in chosen if n in STEPS]
    obligations = [(n, s) for n in chosen if n not in STEPS]
    chosen_controls = [
        (n, control_settings(s))
        for n in CONTROL_NAMES
        if controls and (not only or only in n or any(only in t for t in targets_of(n)))
    ]
    early = [a for a in obligations if not needs_shapes(a[0])]
    later = [a for a in obligations if needs_shapes(a[0])]
    if jobs <= 1:
        parts = _sweeps(steps, s, jobs)
        results: list[Any] = [sweep_task(a) for a in parts]
        done = {a[0]: obligation_task(a) for a in obligations}
        results += [done[a[0]] for a in obligations] + [control_task(a) for a in chosen_controls]
        return _rows(parts, results, s)
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs) as first:
        ahead = {a[0]: first.apply_async(obligation_task, (a,)) for a in early}
        ruled = [first.apply_async(control_task, (a,)) for a in chosen_controls]
        parts = _sweeps(steps, s, jobs)  # the shapes are found here, while `first` works
        with ctx.Pool(jobs) as then:
            pending = [then.apply_async(sweep_task, (a,)) for a in parts]
            ahead |= {a[0]: then.apply_async(obligation_task, (a,)) for a in later}
            pending += [ahead[a[0]] for a in obligations] + ruled
            results = []
            for i, p in enumerate(pending):
                results.append(p.get())
                if progress and i >= len(parts):
                    for r in results[-1] if isinstance(results[-1], list) else [results[-1]]:
                        progress(r)
                elif progress and i == len(parts) - 1:
                    for r in _sweep_rows(parts, results[: len(parts)]):
                        progress(r)
    return _rows(parts, results, s)


def _rows(
    parts: list[tuple[str, tuple, int, int, Settings]], results: list, s: Settings
) -> list[Row]:
    """The report's rows from the tasks' results (the pass's parts first, merged)."""
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
