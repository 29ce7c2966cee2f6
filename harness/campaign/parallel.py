"""One campaign on several worker processes: `cascadecheck check --workers N`.

Each worker is a process of the standard library's `ProcessPoolExecutor` (spawned, so no
worker inherits the parent's threads or open engines). Each opens its own instance of the
implementation (its own exec process, its own qemu-storage-daemon, ...), runs `run_campaign`
with a seed derived from the campaign's (`derive_seed`: worker 0 keeps the campaign seed, so
one worker is exactly the single-process run) and its share of the sequences, and saves to
and replays from the one example database they all name. Worker 0 alone replays the scenario
corpus and the regressions, and after its main run fills the domain's gaps and pursues the
goals it missed (`rounds.py`).

The first worker to find a failure claims it (a shared counter) and stops the others: each
checks the stop event before every new sequence and ends with status `stopped`; only the
claimant shrinks, so a failure is shrunk once. With `keep_going` nobody is stopped and every
worker shrinks its own. Each worker sends a tick per sequence on a queue, which the parent
folds into one progress display; the verdicts are merged into one (`merge.py`), with a
summary per worker.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

from hypothesis.database import ExampleDatabase

from ..core.errors import InternalError
from ..drivers import open_driver
from ..generate import Record
from .merge import merge
from .plan import CampaignStopped, Plan, derive_seed
from .run import run_campaign
from .verdict import Verdict

POLL = 0.5  # seconds between progress updates in the parent


@dataclass(frozen=True)
class Tick:
    """What one worker has done so far (sent after each new sequence and at its end)."""

    worker: int
    sequences: int
    steps: int
    deepest: int
    goals: frozenset[str]
    failing: bool = False


@dataclass(frozen=True)
class Job:
    """One worker's part of the campaign; everything in it crosses a process boundary."""

    index: int
    driver: str
    timeout: float | None
    plan: Plan
    keep_going: bool


def fold(ticks: list[Tick]) -> tuple[int, int, int, int, bool]:
    """The workers' latest ticks as one progress line: sequences, steps, deepest cascade,
    goals reached by any worker, whether one is shrinking a failure."""
    return (
        sum(t.sequences for t in ticks),
        sum(t.steps for t in ticks),
        max((t.deepest for t in ticks), default=0),
        len(frozenset().union(*(t.goals for t in ticks))),
        any(t.failing for t in ticks),
    )


def share(examples: int, workers: int, index: int) -> int:
    """Worker `index`'s share of `examples` sequences (the shares add up to `examples`)."""
    return examples // workers + (1 if index < examples % workers else 0)


def run_workers(
    driver: str,
    plan: Plan,
    workers: int,
    *,
    timeout: float | None = None,
    keep_going: bool = False,
    on_progress: Callable[[list[Tick]], None] | None = None,
) -> Verdict:
    """The campaign `plan` describes, on `workers` processes; one merged verdict."""
    if isinstance(plan.database, ExampleDatabase):
        raise ValueError("workers share a database by its name: a path or a redis:// URL")
    began = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    stop, first, ticks = context.Event(), context.Value("i", -1), context.Queue()
    jobs = [_job(driver, timeout, plan, workers, i, keep_going) for i in range(workers)]
    latest: dict[int, Tick] = {}
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_enter, initargs=(stop, first, ticks)
    ) as pool:
        futures = [pool.submit(_work, job) for job in jobs]
        try:
            _follow(futures, stop, ticks, latest, on_progress)
        except KeyboardInterrupt:
            stop.set()  # the workers got the same Ctrl-C; let them return what they have
            wait(futures, timeout=60)
        verdicts = [_result(f, i, driver) for i, f in enumerate(futures)]
    _drain(ticks, latest, on_progress)
    merged = merge(verdicts, claimed=first.value, seeds=[j.plan.seed for j in jobs])
    merged.budget, merged.seed, merged.duration = plan.examples, plan.seed, plan.duration
    merged.seconds = time.perf_counter() - began
    return merged


def _job(driver: str, timeout: float | None, plan: Plan, workers: int, i: int, keep: bool) -> Job:
    mine = replace(
        plan,
        seed=derive_seed(plan.seed, i),
        examples=max(1, share(plan.examples, workers, i)),
        corpus=plan.corpus if i == 0 else [],
        fill_gaps=plan.fill_gaps and i == 0,
        regressions=plan.regressions if i == 0 else None,
        save_to=_numbered(plan.save_to, i) if plan.save_to and keep else plan.save_to,
        on_example=None,
        on_found=None,
    )
    return Job(i, driver, timeout, mine, keep)


def _numbered(path: str | Path, i: int) -> Path:
    """With --keep-going every worker may save a counterexample: worker i's gets `.i`."""
    p = Path(path)
    return p if i == 0 else p.with_name(f"{p.stem}.{i}{p.suffix}")


def _follow(
    futures: list[Future[Verdict]],
    stop: Any,
    ticks: Any,
    latest: dict[int, Tick],
    on_progress: Callable[[list[Tick]], None] | None,
) -> None:
    """Fold the workers' ticks into one display until every worker is done."""
    while True:
        done, pending = wait(futures, timeout=POLL, return_when=FIRST_EXCEPTION)
        if any(f.exception() is not None for f in done):
            stop.set()  # a worker broke (our own bug): the others end too
        _drain(ticks, latest, on_progress)
        if not pending:
            return


def _drain(ticks: Any, latest: dict[int, Tick], on_progress: Any) -> None:
    changed = False
    while True:
        try:
            tick = ticks.get_nowait()
        except (queue.Empty, OSError, ValueError):
            break
        latest[tick.worker], changed = tick, True
    if changed and on_progress is not None:
        on_progress(list(latest.values()))


def _result(future: Future[Verdict], index: int, driver: str) -> Verdict:
    """A worker's verdict; a worker process that died is cascadecheck's own failure."""
    try:
        return future.result(timeout=0)
    except BrokenProcessPool as err:
        raise InternalError(f"worker {index} died: {err}") from err
    except TimeoutError:  # interrupted and not back within the grace period
        return Verdict("interrupted", driver, problem=f"worker {index} did not stop in time")


# -- in the worker process ---------------------------------------------------------------------
_STOP: Any = None
_FIRST: Synchronized[int] | None = None
_TICKS: Any = None


def _enter(stop: Any, first: Synchronized[int], ticks: Any) -> None:
    """Each worker process keeps the campaign's shared stop event, claim and tick queue."""
    global _STOP, _FIRST, _TICKS
    _STOP, _FIRST, _TICKS = stop, first, ticks


def _work(job: Job) -> Verdict:
    """One worker's campaign."""
    last: list[Record] = []

    def on_example(record: Record) -> None:
        last[:] = [record]
        if _STOP.is_set() and not record.failing:
            raise CampaignStopped("stopped")
        _tick(job.index, record)

    def on_found() -> None:
        assert _FIRST is not None
        with _FIRST.get_lock():
            mine = _FIRST.value == -1
            if mine:
                _FIRST.value = job.index
        if not job.keep_going:
            _STOP.set()
            if not mine:  # another worker found one first and shrinks it
                raise CampaignStopped("stopped")

    plan = replace(job.plan, on_example=on_example, on_found=on_found)
    verdict = run_campaign(lambda: open_driver(job.driver, job.timeout), plan)
    if last:  # the final figures
        _tick(job.index, last[0])
    return verdict


def _tick(index: int, record: Record) -> None:
    cov = record.coverage
    _TICKS.put(
        Tick(
            index,
            record.sequences,
            record.steps,
            cov.deepest,
            frozenset(cov.reached),
            record.failing,
        )
    )
