"""Every obligation by name, and how each is checked on its own.

`run_obligation` checks one obligation (by name) under a specification; the step obligations
are usually checked together in one pass instead (`proofs/suite.py`), but a control checks
each of its targets here, alone.
"""

from __future__ import annotations

import time
from typing import Any

from model.rules import Spec

from .availability import check_images_follow_availability
from .bmc import bmc
from .closure import check_closed
from .coverage import Settings, groups, situations
from .forest_claims import CONTROL_OF as FOREST_CONTROL_OF
from .forest_claims import WRONG_RULES as FOREST_WRONG_RULES
from .forest_claims import check_forest
from .forest_refinement import check_forest_refinement
from .graph_claims import CONTROL_OF as GRAPH_CONTROL_OF
from .graph_claims import WRONG_RULES as GRAPH_WRONG_RULES
from .graph_claims import check_graph
from .graph_refinement import UNGROUPED, check_graph_refinement, link_situations
from .incremental import CONTROL_OF as INCREMENTAL_CONTROL_OF
from .incremental import WRONG_RULES as INCREMENTAL_WRONG_RULES
from .incremental import check_incremental, check_incremental_refinement
from .machine import check_machine
from .obligations import STEP_OBLIGATIONS
from .refinement import check_refinement
from .report import Row, outcome_row
from .restore import CONTROL_OF as RESTORE_CONTROL_OF
from .restore import WRONG_RULES as RESTORE_WRONG_RULES
from .restore import check_restore
from .restore_copied import CONTROL_OF as COPIED_CONTROL_OF
from .restore_copied import WRONG_RULES as COPIED_WRONG_RULES
from .restore_copied import check_copied
from .restore_copied_refinement import check_copied_refinement
from .restore_heads import CONTROL_OF as HEADS_CONTROL_OF
from .restore_heads import WRONG_RULES as HEADS_WRONG_RULES
from .restore_heads import check_heads
from .restore_heads_refinement import check_heads_refinement
from .restore_refinement import check_restore_refinement
from .state_claims import check_init, check_strong, check_tight
from .structure import STRUCTURAL_CHECKS, check_structure
from .sweep import check_steps
from .unbounded import check_unbounded, not_vacuous
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
    *HEADS_CONTROL_OF,
    "unbounded-restore-heads-refines-spec",
    *COPIED_CONTROL_OF,
    "unbounded-restore-copied-refines-spec",
    "unbounded-restore-refines-spec",
    *GRAPH_CONTROL_OF,
    "unbounded-graph-refines-spec",
    "unbounded-graph-refines-spec-closed",
)


# The unbounded models whose claims each have a control of their own: which wrong rule each
# claim's control uses, those rules in words, and the check (`check(wrong, only)`), in the
# order their controls are reported.
MODELS: tuple[tuple[dict[str, str], dict[str, str], Any], ...] = (
    (FOREST_CONTROL_OF, FOREST_WRONG_RULES, check_forest),
    (INCREMENTAL_CONTROL_OF, INCREMENTAL_WRONG_RULES, check_incremental),
    (RESTORE_CONTROL_OF, RESTORE_WRONG_RULES, check_restore),
    (HEADS_CONTROL_OF, HEADS_WRONG_RULES, check_heads),
    (COPIED_CONTROL_OF, COPIED_WRONG_RULES, check_copied),
    (GRAPH_CONTROL_OF, GRAPH_WRONG_RULES, check_graph),
)

FOREST_TOTAL = 4  # the forest refinement covers every forest of at most this many targets
RESTORE_TOTAL = 5  # the restore refinement covers every restored cascade of at most this many
HEADS_TOTAL = 5  # the frozen-heads links, whatever the bound: three frozen heads need four targets


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
    if name == "unbounded-incremental-refines-spec":
        return check_incremental_refinement(spec, s.bound)
    if name == "unbounded-restore-refines-spec":
        return check_restore_refinement(spec, min(s.bound, RESTORE_TOTAL))
    if name == "unbounded-restore-heads-refines-spec":
        return check_heads_refinement(spec, HEADS_TOTAL)
    if name == "unbounded-restore-copied-refines-spec":
        return check_copied_refinement(spec, HEADS_TOTAL)
    if name == "unbounded-graph-refines-spec":
        return check_graph_refinement(spec, link_situations(spec), name)
    if name == "unbounded-graph-refines-spec-closed":
        closed = link_situations(spec, closed=True)  # two volumes: no group starts
        return check_graph_refinement(spec, closed, name, UNGROUPED)
    for control_of, _, check in MODELS:
        if name in control_of:
            return check(only={name})[0]  # type: ignore[no-any-return]
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
