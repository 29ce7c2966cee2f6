"""Hypothesis's part of a campaign: one run of `examples` sequences, rounds of them until the
time is up for a soak run, then a long round, then rounds that each focus on one corner of the
input domain the earlier runs never drew, then rounds that each pursue one mandatory goal the
earlier runs never reached.

The long round is a few sequences `LONG_FACTOR` times as long as the others (one per
`LONG_EVERY` sequences asked for). Faults that need state to pile up — every n-th write, a
counter or a table that overflows, a leak — hide from 50-step sequences: the reference
engine's `SpontaneousIoError` (an I/O error at every 10th write) was found by the 9th
sequence of a 200-sequence campaign or by none of 206, depending on how the choices fell.

Hypothesis chooses what to generate to find bugs, not to cover a range: in a 200-sequence
run, half the sequences can share one focus (its targeting phase climbs on one example), and
some edges are never drawn. So after the main run every (field, bucket) the implementation
supports and the campaign did not reach gets a round of its own, a separate Hypothesis run
whose sequences all focus on it (fixed for the run, so Hypothesis sees consistent
generation), until it is drawn or `GAP_TRIES` sequences have tried.

Mandatory goals (`coverage.py`) were left to chance the same way: a conforming engine's
campaign reached `stop_group accepted` once in 40 sequences at one seed, and on a loaded
machine (where the workers' shared example database is read in another order) not at all —
`inconclusive`. So every mandatory goal still unreached gets a *goal round*: a Hypothesis run
whose sequences have every rule family on (no swarm subset can leave the goal's operations
out), ended as soon as the goal is reached or after `GOAL_TRIES` sequences. An implementation
that cannot reach a goal its declarations make mandatory stays `inconclusive`; a round costs
it ten sequences more.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import reporting as hypothesis_reporting
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import ExampleDatabase
from hypothesis.errors import Flaky
from hypothesis.internal.conjecture import engine as hypothesis_engine
from hypothesis.stateful import run_state_machine_as_test

from ..generate import FailureFound, Record, machine_for
from .database import hypothesis_home
from .plan import CampaignStopped, Plan, derive_seed
from .verdict import Verdict

SLOW_SHRINK_WARNING = "WARNING: Hypothesis has spent more than five minutes working to shrink"
GAP_TRIES = 5  # sequences a gap round may take to draw its corner of the domain
GOAL_TRIES = 10  # sequences a goal round may take to reach its goal
LONG_FACTOR = 10  # the long round's sequences have this many times the steps
LONG_EVERY = 25  # one long sequence per this many sequences asked for (at least one)


def run_hypothesis(
    record: Record, plan: Plan, verdict: Verdict, database: ExampleDatabase | None
) -> None:
    """Hypothesis's part of the campaign (see the module's docstring); a nonconformance
    propagates as itself, however Hypothesis was stopped."""
    home = plan.database if isinstance(plan.database, str | Path) else None
    set_hypothesis_home_dir(hypothesis_home(home))
    limit = hypothesis_engine.MAX_SHRINKING_SECONDS  # internal; hypothesis is pinned
    hypothesis_engine.MAX_SHRINKING_SECONDS = max(1, int(plan.shrink_seconds / 3))
    verdict.found_by = "campaign"
    try:
        with hypothesis_reporting.with_reporter(_reporter(verdict)):
            _main_rounds(record, plan, verdict, database)
            if plan.fill_gaps:
                _long_round(record, plan, verdict, database)
                before = record.sequences
                try:
                    _gap_rounds(record, plan, verdict, database)
                finally:
                    verdict.gap_sequences = record.sequences - before
                before = record.sequences
                try:
                    _goal_rounds(record, plan, verdict, database)
                finally:
                    verdict.goal_sequences = record.sequences - before
    except FailureFound:
        assert record.found is not None
        raise record.found from None
    except Flaky:
        if record.found is None:
            raise
        # our own abort of Hypothesis's replay (FailureFound) upsets its bookkeeping; the
        # failure itself was seen, and the shrinker replays it on its own
        raise record.found from None
    finally:
        hypothesis_engine.MAX_SHRINKING_SECONDS = limit


def _long_round(
    record: Record, plan: Plan, verdict: Verdict, database: ExampleDatabase | None
) -> None:
    """A few sequences `LONG_FACTOR` times as long (see the module's docstring)."""
    before = record.sequences
    long = replace(plan, steps=plan.steps * LONG_FACTOR)
    try:
        _run(record, long, _config(long, database, max(1, plan.examples // LONG_EVERY)), 500)
    finally:
        verdict.long_sequences = record.sequences - before


def _config(plan: Plan, database: ExampleDatabase | None, examples: int) -> settings:
    phases = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target]
    if plan.hypothesis_shrink:
        phases.append(Phase.shrink)
    return settings(
        max_examples=examples,
        stateful_step_count=plan.steps,
        deadline=None,
        database=database,
        print_blob=False,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        phases=phases,
    )


def _reporter(verdict: Verdict) -> Callable[[object], None]:
    def reporter(value: object) -> None:
        """Hypothesis's output, less its warning for the shrink cap set here."""
        if isinstance(value, str) and value.startswith(SLOW_SHRINK_WARNING):
            verdict.shrink["hypothesis_capped"] = True
        elif isinstance(value, str) and (value.startswith("state") or "Falsifying" in value):
            return  # the saved trace says it better than Hypothesis's replay of the rules
        else:
            hypothesis_reporting.default(value)

    return reporter


def _run(record: Record, plan: Plan, config: settings, n: int) -> None:
    """One Hypothesis run, with the campaign's seed derived for run `n`."""
    machine = machine_for(record)
    if plan.seed is not None:
        machine = seed(derive_seed(plan.seed, n))(machine)
    run_state_machine_as_test(machine, settings=config)


def _main_rounds(
    record: Record, plan: Plan, verdict: Verdict, database: ExampleDatabase | None
) -> None:
    """`examples` sequences; a soak run repeats with new seeds until its time is up (new
    runs, not one endless one: Hypothesis keeps a tree of every choice it made in a run)."""
    config = _config(plan, database, plan.examples)
    if plan.duration is None:
        _run(record, plan, config, 0)
        return
    deadline = time.monotonic() + plan.duration
    then = record.on_example

    def on_example(rec: Record) -> None:
        if time.monotonic() >= deadline and not rec.failing:
            raise CampaignStopped("duration")
        if then is not None:
            then(rec)

    record.on_example = on_example
    try:
        for n in itertools.count():
            verdict.rounds = n + 1
            _run(record, plan, config, n)
            if time.monotonic() >= deadline:
                return
    except CampaignStopped as stop:
        if stop.reason != "duration":
            raise
    finally:
        record.on_example = then


def _gap_rounds(
    record: Record, plan: Plan, verdict: Verdict, database: ExampleDatabase | None
) -> None:
    """A round per corner of the domain not drawn yet, each a Hypothesis run whose every
    sequence focuses on it, ended as soon as it is drawn."""
    config = _config(plan, database, GAP_TRIES)
    domain = record.domain
    for n, corner in enumerate(domain.unreached(), start=1):
        if corner not in domain.unreached():  # an earlier round drew it too
            continue
        domain.fixed_focus = corner
        verdict.gap_rounds += 1
        try:
            _run_until(record, plan, config, 1000 + n, lambda c=corner: c not in domain.unreached())
        finally:
            domain.fixed_focus = None


def _goal_rounds(
    record: Record, plan: Plan, verdict: Verdict, database: ExampleDatabase | None
) -> None:
    """A round per mandatory goal not reached yet, each a Hypothesis run whose every
    sequence has every rule family on, ended as soon as the goal is reached."""
    config = _config(plan, database, GOAL_TRIES)
    coverage, policies = record.coverage, record.options.policies

    def missing() -> list[str]:
        return coverage.missing(record.hello, policies)

    for n, goal in enumerate(missing(), start=1):
        if goal not in missing():  # an earlier round reached it too
            continue
        record.pursuing = goal
        verdict.goal_rounds += 1
        try:
            _run_until(record, plan, config, 2000 + n, lambda g=goal: g in coverage.reached)
        finally:
            record.pursuing = None


def _run_until(
    record: Record, plan: Plan, config: settings, n: int, done: Callable[[], bool]
) -> None:
    """Hypothesis run `n`, ended at the start of the first sequence after `done()` holds
    (unless a failure is being shrunk)."""
    then = record.on_example

    def on_example(rec: Record) -> None:
        if done() and not rec.failing:
            raise CampaignStopped("covered")
        if then is not None:
            then(rec)

    record.on_example = on_example
    try:
        _run(record, plan, config, n)
    except CampaignStopped as stop:
        if stop.reason != "covered":
            raise
    finally:
        record.on_example = then
