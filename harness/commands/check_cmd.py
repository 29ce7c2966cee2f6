"""`cascadecheck check`: the main job — does an implementation do what the specification says?"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from ..campaign import Plan, Verdict, run_campaign
from ..campaign.corpus import SCENARIOS
from ..campaign.database import DatabaseError, is_url, open_database
from ..campaign.parallel import fold, run_workers
from ..drivers import open_driver
from ..generate import Record
from .common import (
    Progress,
    UsageError,
    duration,
    nonnegative,
    positive,
    timeout,
    workers,
    writable,
)
from .report import print_verdict, write_json, write_junit

DEFAULT_HOME = Path(".cascadecheck")


def add_parser(sub: Any) -> None:
    """Register the subcommand."""
    p = sub.add_parser(
        "check",
        help="check an implementation with scenario traces and generated operation sequences",
    )
    p.add_argument(
        "--driver",
        default="reference",
        help="reference (default), python:MODULE:CLASS, exec:COMMAND, or a real engine: "
        "qemu-live, qemu-offline, qemu-cbw, nbdkit-cow, reflink-btrfs, reflink-xfs",
    )
    p.add_argument("--examples", type=positive, default=200, help="sequences (default 200)")
    p.add_argument(
        "--duration",
        type=duration,
        metavar="TIME",
        help="a soak run: generate until TIME has passed (90s, 30m, 8h), instead of --examples",
    )
    p.add_argument(
        "--workers",
        type=workers,
        default=1,
        metavar="N",
        help="worker processes, each with its own instance of the implementation (default 1; "
        "auto: one per core)",
    )
    p.add_argument(
        "--keep-going",
        action="store_true",
        help="with --workers: a worker's failure does not stop the others",
    )
    p.add_argument("--steps", type=positive, default=50, help="operations per sequence (50)")
    p.add_argument("--seed", type=int, help="random seed (default: fresh)")
    p.add_argument(
        "--policy",
        choices=["per-type", "mixed"],
        help="only this policy (default: every policy the implementation declares)",
    )
    p.add_argument(
        "--timeout",
        type=timeout,
        help="seconds a request may take (default: 10 for exec, 60 in process)",
    )
    p.add_argument(
        "--shrink-seconds",
        type=nonnegative,
        default=20.0,
        help="time to shrink a counterexample (default 20)",
    )
    p.add_argument(
        "--no-step-check",
        action="store_true",
        help="skip the concrete evaluation of the rules on exposed internals",
    )
    p.add_argument(
        "--observe-every-step",
        action="store_true",
        help="read every volume and ask after every map after every operation (this hides "
        "implementations that copy lazily when read; default: at chosen points and at the end)",
    )
    p.add_argument(
        "--corpus",
        action="append",
        default=[],
        metavar="DIR",
        help="also replay the scenario traces in DIR before generating (repeatable)",
    )
    p.add_argument("--no-scenarios", action="store_true", help="skip the shipped scenario traces")
    p.add_argument(
        "--out", default="cascadecheck-failure.json", help="where a counterexample is saved"
    )
    p.add_argument(
        "--database",
        default=str(DEFAULT_HOME / "examples"),
        help="Hypothesis example database: a folder (default .cascadecheck/examples) or a "
        "redis://HOST:PORT/DB URL that a fleet of hosts shares; found counterexamples are also "
        "kept in corpus/ beside a folder (else in .cascadecheck/corpus) and replayed first",
    )
    p.add_argument("--junit", metavar="FILE", help="write a JUnit XML report")
    p.add_argument("--json", metavar="FILE", help="write the verdict as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Exit codes: see `cascadecheck --help`."""
    console = Console(highlight=False)
    for path in (args.out, args.json, args.junit):
        if path:
            writable(path)
    for folder in args.corpus:
        if not Path(folder).exists():
            raise UsageError(f"--corpus {folder}: no such file or folder")
    if args.keep_going and args.workers == 1:
        raise UsageError("--keep-going needs --workers 2 or more")
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    database: str | Path = args.database
    if is_url(database):
        regressions = DEFAULT_HOME / "corpus"
    else:
        database = Path(database)
        regressions = database.parent / "corpus"
    try:
        open_database(database)  # an unreachable server is a usage error now, not later
    except DatabaseError as err:
        raise UsageError(str(err)) from None
    corpus = ([] if args.no_scenarios else [SCENARIOS]) + [Path(c) for c in args.corpus]
    plan = Plan(
        examples=args.examples,
        steps=args.steps,
        seed=seed,
        policy=args.policy,
        step_check=not args.no_step_check,
        observe_every_step=args.observe_every_step,
        shrink_seconds=args.shrink_seconds,
        database=database,
        save_to=args.out,
        corpus=corpus,
        regressions=regressions,
        duration=args.duration,
    )
    total = None if args.duration else args.examples
    with Progress(console, args.driver, total, args.workers) as progress:
        if args.workers > 1:
            verdict = run_workers(
                args.driver,
                plan,
                args.workers,
                timeout=args.timeout,
                keep_going=args.keep_going,
                on_progress=lambda ticks: progress.update(*fold(ticks)),
            )
        else:

            def tick(record: Record) -> None:
                cov = record.coverage
                progress.update(
                    record.sequences, record.steps, cov.deepest, len(cov.reached), record.failing
                )

            plan.on_example = tick
            verdict = run_campaign(lambda: open_driver(args.driver, args.timeout), plan)
    _report(console, verdict, args)
    return verdict.exit_code


def _report(console: Console, verdict: Verdict, args: argparse.Namespace) -> None:
    print_verdict(console, verdict, args.driver)
    for path, writer in ((args.junit, write_junit), (args.json, write_json)):
        if path:
            try:
                writer(Path(path), verdict)
            except OSError as err:
                console.print(f"[red]error:[/red] cannot write {escape(path)}: {escape(str(err))}")
