"""The whole proof suite: every obligation, every negative control, one verdict.

An obligation passes when it is proved. A control passes (for the suite) when the obligation
it targets *fails* under the wrong rule; a control that proves is a suite failure, since it
means the obligation cannot tell right from wrong. Tasks are independent, so they run in
worker processes (Z3 terms are rebuilt in each worker).
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from model.rules import Spec

from .availability import check_images_follow_availability, forget_revived
from .bmc import bmc, check_path
from .closure import check_closed
from .controls import CONTROLS, Control
from .coverage import Settings, groups, situations
from .forest_claims import CONTROL_OF as FOREST_CONTROL_OF
from .forest_claims import WRONG_RULES as FOREST_WRONG_RULES
from .forest_claims import check_forest
from .forest_refinement import check_forest_refinement
from .incremental import CONTROL_OF as INCREMENTAL_CONTROL_OF
from .incremental import WRONG_RULES as INCREMENTAL_WRONG_RULES
from .incremental import check_incremental, check_incremental_refinement
from .machine import MACHINE_CONTROLS, check_machine
from .obligations import (
    STEP_OBLIGATIONS,
    check_init,
    check_strong,
    check_tight,
    weakened_invariant,
)
from .refinement import check_refinement
from .report import PER_TYPE_CLAIMS, Row, control_row, outcome_row, passed, policy_row
from .restore import CONTROL_OF as RESTORE_CONTROL_OF
from .restore import WRONG_RULES as RESTORE_WRONG_RULES
from .restore import check_restore, check_restore_refinement
from .shapes import (
    reachable,
)
from .structure import STRUCTURAL_CHECKS, check_structure
from .sweep import Tally, check_steps, merged, tally, verdict
from .traces import plain_trace
from .unbounded import CONTROL_OF, check_unbounded, not_vacuous
from .verdicts import Failure, Outcome, rules_fail

OBLIGATION_NAMES = (
    "init",
    "invariant-strong",
    *(o.name for o in STEP_OBLIGATIONS),
    "bounded-work-tight",
    "group-order",
    "restore-detected",
    "shape-well-formed",
    "covered-set-closed",
    "bmc-from-empty",
    "machine-reachable",
    "machine-no-trap",
    "machine-commands-agree",
    "machine-positions-safe",
    "machine-availability-agrees",
    "images-follow-availability",
    "unbounded-read-base",
    "unbounded-read-step",
    "unbounded-head-write",
    "unbounded-target-write",
    "unbounded-insertion",
    "unbounded-removal",
    "unbounded-refines-spec",
    *FOREST_CONTROL_OF,
    "unbounded-forest-refines-spec",
    *INCREMENTAL_CONTROL_OF,
    "unbounded-incremental-refines-spec",
    *RESTORE_CONTROL_OF,
    "unbounded-restore-refines-spec",
)

FOREST_TOTAL = 4  # the forest refinement covers every forest of at most this many targets
RESTORE_TOTAL = 5  # the restore refinement covers every restored cascade of at most this many

# the closed set cut short: an enumeration that stops halfway is no induction, and must be caught
TRUNCATED_CONTROL = "enumeration-truncated"
# an invariant that says nothing about what volumes read proves nothing about it: it must fail
WEAKENED_CONTROL = "invariant-weakened"
# point-in-time rules that leave a volume which takes I/O without an image check nothing of it
FORGETFUL_CONTROL = "images-forget-revived"


def run_obligation(name: str, s: Settings, spec: Spec | None = None) -> Outcome:
    """Check one obligation under a specification (the real one unless given); a rule that
    raises fails the obligation, named, instead of stopping the suite."""
    began = time.perf_counter()
    try:
        return _run_obligation(name, s, spec or Spec(s.policy))
    except KeyError:
        raise  # an unknown obligation name: the caller's mistake
    except Exception as err:
        detail = rules_fail(err)
        return Outcome(name, "failed", time.perf_counter() - began, 0, Failure(None, None, detail))


def _run_obligation(name: str, s: Settings, spec: Spec) -> Outcome:
    steps = {o.name: o for o in STEP_OBLIGATIONS}
    if name == "init":
        return check_init(spec, situations(spec, s))
    if name == "invariant-strong":
        return check_strong(spec, situations(spec, s))
    if name in steps:
        over = groups if steps[name].over == "groups" else situations
        return check_steps(spec, steps[name], over(spec, s))
    structural = {c.name: c for c in STRUCTURAL_CHECKS}
    if name in structural:
        over = groups if structural[name].over == "groups" else situations
        return check_structure(spec, structural[name], over(spec, s))
    if name == "bounded-work-tight":
        return check_tight(spec, situations(spec, s))
    if name == "covered-set-closed":
        every = list(situations(spec, s))
        closed = [x for x in every if x.family == "reachable"]
        samples = [x for x in every if x.family.startswith("sampled-")]
        return check_closed(spec, closed, samples, s.volumes)
    if name == "bmc-from-empty":
        began = time.perf_counter()
        result = bmc(spec, s.volumes, s.depth, s.data_steps)
        out = Outcome(
            name,
            "failed" if result.counterexample or result.unconfirmed else "proved",
            time.perf_counter() - began,
            result.paths,
        )
        out.note = (
            f"n={s.volumes} volumes, {s.depth} structural steps, {s.data_steps} data "
            f"step(s) around each: {result.paths} paths"
        )
        if result.counterexample:
            out.failure = _bmc_failure(result.counterexample)
        return out
    if name.startswith("machine-"):
        return next(o for o in check_machine() if o.name == name)
    if name == "images-follow-availability":
        return check_images_follow_availability(situations(spec, s), spec=spec)
    if name == "unbounded-refines-spec":
        return check_refinement(spec, s.bound)
    if name == "unbounded-forest-refines-spec":
        return check_forest_refinement(spec, min(s.bound, FOREST_TOTAL))
    if name in FOREST_CONTROL_OF:
        return check_forest(only={name})[0]
    if name == "unbounded-incremental-refines-spec":
        return check_incremental_refinement(spec, s.bound)
    if name in INCREMENTAL_CONTROL_OF:
        return check_incremental(only={name})[0]
    if name == "unbounded-restore-refines-spec":
        return check_restore_refinement(spec, min(s.bound, RESTORE_TOTAL))
    if name in RESTORE_CONTROL_OF:
        return check_restore(only={name})[0]
    if name.startswith("unbounded-"):
        if not not_vacuous():
            return Outcome(name, "failed", 0.0, 1, note="the unbounded invariant is vacuous")
        return check_unbounded(only={name})[0]
    raise KeyError(name)


def _bmc_failure(cx: Any) -> Failure:
    return Failure(None, None, cx.explain())


def obligation_task(args: tuple[str, Settings]) -> Row:
    """Worker: one obligation as a report row."""
    name, s = args
    return outcome_row(run_obligation(name, s))


def control_task(args: tuple[str, Settings]) -> list[Row]:
    """Worker: one control; each targeted obligation must fail (if the specification's rules
    raise before the control can be judged, it is missed, and says why)."""
    name, s = args
    try:
        return _control_rows(name, s)
    except Exception as err:
        detail = f"the control could not be judged: {rules_fail(err)}"
        return [Row(name, "control", "missed", False, 0.0, 0, detail)]


def _control_rows(name: str, s: Settings) -> list[Row]:
    rows = []
    if name in MACHINE_CONTROLS:
        control = MACHINE_CONTROLS[name]
        for o in control.outcomes():
            if o.name in control.must_fail:
                rows.append(control_row(f"{name} / {o.name}", o, control.what))
        return rows
    if name == FORGETFUL_CONTROL:
        spec = Spec(s.policy)
        o = check_images_follow_availability(situations(spec, s), forget_revived, spec)
        rule = "a target revived by a forced delete is online with no image"
        return [control_row(f"{name} / images-follow-availability", o, rule)]
    if name == WEAKENED_CONTROL:
        spec = Spec(s.policy)
        o = check_strong(spec, situations(spec, s), weakened_invariant)
        rule = "the invariant without its refinement part (only incremental agreement)"
        return [control_row(f"{name} / invariant-strong", o, rule)]
    if name == TRUNCATED_CONTROL:
        spec = Spec(s.policy)
        every = reachable(spec, s.volumes)  # in the order found: its first half is a cut-short run
        o = check_closed(spec, every[: len(every) // 2])
        rule = "the shapes n volumes reach, enumerated only halfway"
        return [control_row(f"{name} / covered-set-closed", o, rule)]
    if name.removesuffix("-control") in FOREST_CONTROL_OF:
        ob = name.removesuffix("-control")
        o = check_forest(FOREST_CONTROL_OF[ob], {ob})[0]
        return [control_row(f"{name} / {ob}", o, FOREST_WRONG_RULES[FOREST_CONTROL_OF[ob]])]
    if name.removesuffix("-control") in RESTORE_CONTROL_OF:
        ob = name.removesuffix("-control")
        wrong = RESTORE_CONTROL_OF[ob]
        o = check_restore(wrong, {ob})[0]
        return [control_row(f"{name} / {ob}", o, RESTORE_WRONG_RULES[wrong])]
    if name.removesuffix("-control") in INCREMENTAL_CONTROL_OF:
        ob = name.removesuffix("-control")
        wrong = INCREMENTAL_CONTROL_OF[ob]
        o = check_incremental(wrong, {ob})[0]
        return [control_row(f"{name} / {ob}", o, INCREMENTAL_WRONG_RULES[wrong])]
    if name.startswith("unbounded-"):
        ob = name.removesuffix("-control")
        o = check_unbounded(CONTROL_OF[ob], {ob})[0]
        return [control_row(f"{name} / {ob}", o, f"the wrong {CONTROL_OF[ob]} rule")]
    control = next(c for c in CONTROLS if c.name == name)
    for target in control.must_fail:
        o = run_obligation(target, s, control.make())
        row = control_row(f"{name} / {target}", o, control.rule)
        if o.failure is not None and o.failure.situation is not None:
            try:
                row.trace, words = _vocabulary(control, o)
            except Exception:
                row.trace, words = None, ""
            if words:
                row.detail += f"\nreplayable: {words}"
        rows.append(row)
    return rows


def _vocabulary(control: Control, o: Outcome) -> tuple[dict[str, Any] | None, str]:
    """A counterexample trace from the empty system along the failing shape's path."""
    assert o.failure is not None and o.failure.situation is not None
    if o.failure.situation.family.startswith("group-"):
        return None, ""  # built, not reached from the empty system: no replayable path
    spec = control.make()
    path = list(o.failure.situation.path)
    if o.failure.step is not None and not o.failure.step.data:
        path.append(o.failure.step)
    n = len(o.failure.situation.shape.volumes)
    for m in (1, 2):
        failed, cx = check_path(spec, n, path, m)
        if cx is not None:
            return cx.trace(), cx.explain()
        if failed:
            break
    if o.failure.step is not None and o.failure.step.data:  # a claim about copies
        path.append(o.failure.step)
    steps = "; ".join(st.label() for st in path)
    return plain_trace(spec, n, path), f"the copies of: {steps}"


CONTROL_NAMES = (
    *(c.name for c in CONTROLS),
    *MACHINE_CONTROLS,
    TRUNCATED_CONTROL,
    WEAKENED_CONTROL,
    FORGETFUL_CONTROL,
    *(f"{ob}-control" for ob in CONTROL_OF),
    *(f"{ob}-control" for ob in FOREST_CONTROL_OF),
    *(f"{ob}-control" for ob in INCREMENTAL_CONTROL_OF),
    *(f"{ob}-control" for ob in RESTORE_CONTROL_OF),
)


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
        if controls and (not only or only in n or any(only in t for t in _targets(n)))
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


def control_settings(s: Settings) -> Settings:
    """Where the controls are checked: as asked, but at no more than the default two volumes
    and cascade length K = 6. A control shows that its obligation can fail; the default
    coverage shows it for every control, and more volumes or longer cascades widen what the
    obligations cover, not that (at three volumes the controls whose failure is vacuity would
    walk all 29,012 shapes before failing, at K = 8 a third more families). The controls are
    wrong per-type rules, so they are checked under the per-type policy."""
    return replace(
        s,
        volumes=min(s.volumes, Settings.volumes),
        bound=min(s.bound, Settings.bound),
        policy=Settings.policy,
    )


def _targets(control: str) -> tuple[str, ...]:
    if control in MACHINE_CONTROLS:
        return MACHINE_CONTROLS[control].must_fail
    if control.endswith("-control"):
        return (control.removesuffix("-control"),)
    if control == TRUNCATED_CONTROL:
        return ("covered-set-closed",)
    if control == WEAKENED_CONTROL:
        return ("invariant-strong",)
    if control == FORGETFUL_CONTROL:
        return ("images-follow-availability",)
    return next(c.must_fail for c in CONTROLS if c.name == control)


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
