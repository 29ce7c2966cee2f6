"""`cascadecheck prove`: run every proof obligation and negative control, print a table."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from proofs import suite
from proofs.suite import Settings, passed, run_suite

from .common import folder, workers, writable


def add_parser(sub: Any) -> None:
    """Register the subcommand."""
    p = sub.add_parser("prove", help="check the specification's proof obligations and controls")
    p.add_argument(
        "--bound", type=int, default=6, help="longest cascade covered, K, 3-16 (default 6)"
    )
    p.add_argument(
        "--depth",
        type=int,
        default=2,
        help="structural steps in the bounded search from empty (default 2)",
    )
    p.add_argument(
        "--data-steps",
        type=int,
        default=1,
        help="symbolic data steps around each structural step (default 1)",
    )
    p.add_argument(
        "--volumes",
        type=int,
        default=2,
        help="volumes for the reachable shapes and the bounded search (default 2)",
    )
    p.add_argument(
        "--sample",
        type=int,
        default=200,
        help="shapes of one volume more sampled by seeded random walks, and a quarter and a"
        " tenth as many of two and three more (default 200; 0: none)",
    )
    p.add_argument(
        "--policy",
        choices=("per-type", "mixed"),
        default="per-type",
        help="cascade policy of the rules proved (default per-type; under mixed the per-type "
        "claims must fail, and are reported as controls)",
    )
    p.add_argument("--only", help="only obligations and controls whose name contains this")
    p.add_argument(
        "--jobs", type=workers, default=2, help="worker processes: a number, or auto (default 2)"
    )
    p.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="FILE",
        help="write the results as JSON (to FILE, or stdout)",
    )
    p.add_argument(
        "--traces",
        metavar="DIR",
        help="save each control's counterexample as a replayable trace file",
    )
    p.add_argument(
        "--verbose",
        action="store_true",
        help="print each control's counterexample trace, one operation per line",
    )
    p.set_defaults(func=run)


def _usage_error(console: Console, message: str) -> int:
    console.print(f"[red]error:[/red] {escape(message)}")
    return 2


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every obligation is proved and every control caught, 1 otherwise."""
    console = Console(stderr=args.json == "-")
    if not 3 <= args.bound <= 16:
        # below 3 targets a naive copy-to-every-target costs no more than the bound allows,
        # so the bounded-work control could not be caught: the suite would prove nothing
        return _usage_error(console, "--bound must be between 3 and 16")
    if not 0 <= args.depth <= 6 or not 0 <= args.data_steps <= 4:
        return _usage_error(console, "--depth must be 0-6 and --data-steps 0-4")
    if not 2 <= args.volumes <= 3:
        return _usage_error(console, "--volumes must be 2 or 3")
    if not 0 <= args.sample <= 5000:
        return _usage_error(console, "--sample must be 0-5000")
    if args.json and args.json != "-":
        writable(args.json)
    if args.traces:
        folder(args.traces)
    names = (*suite.OBLIGATION_NAMES, *suite.CONTROL_NAMES)
    if args.only and not any(args.only in n for n in names):
        return _usage_error(console, f"no obligation or control matches {args.only!r}")
    settings = Settings(
        bound=args.bound,
        volumes=args.volumes,
        depth=args.depth,
        data_steps=args.data_steps,
        sample=args.sample,
        policy=args.policy,
    )
    began = time.perf_counter()
    with console.status("proving…"):
        rows = run_suite(settings, args.only, args.jobs)
    total = time.perf_counter() - began
    ok = passed(rows)
    table = Table(
        title=f"cascadecheck prove ({args.policy}, K={args.bound}, n={args.volumes}, "
        f"sampled {args.sample}/{args.sample // 4}/{args.sample // 10} at n={args.volumes + 1}.."
        f"{args.volumes + 3}, depth={args.depth}+{args.data_steps})"
    )
    for column in ("obligation", "role", "verdict", "time", "queries"):
        table.add_column(column, justify="right" if column in ("time", "queries") else "left")
    for r in rows:
        colour = "green" if r.ok else "red"
        table.add_row(
            escape(r.name),
            r.role,
            f"[{colour}]{r.verdict}[/{colour}]",
            f"{r.seconds:.2f}s",
            str(r.queries),
        )
    console.print(table)
    for r in rows:
        if not r.ok:
            console.print(f"[red]{escape(r.name)}[/red]: {escape(r.detail)}")
        elif r.role == "control" and r.trace:
            # the control's counterexample, as operations of the vocabulary
            words = r.detail.splitlines()[-1] if r.detail else ""
            console.print(f"[bold]{escape(r.name)}[/bold]: {escape(words)}")
            if args.verbose:
                for op in r.trace["ops"]:
                    console.print("    " + escape(json.dumps(op)))
    console.print(
        f"{'[green]all obligations proved, every control caught' if ok else '[red]FAILED'}"
        f"[/] in {total:.1f}s"
    )
    if args.traces:
        _save_traces(console, Path(args.traces), rows)
    if args.json:
        doc = {
            "settings": asdict(settings),
            "passed": ok,
            "seconds": total,
            "rows": [asdict(r) for r in rows],
        }
        text = json.dumps(doc, indent=2)
        if args.json == "-":
            print(text)
        else:
            try:
                Path(args.json).write_text(text + "\n")
            except OSError as err:  # checked before the run, but the disk may have changed
                return _usage_error(console, f"cannot write {args.json}: {err.strerror or err}")
    return 0 if ok else 1


def _save_traces(console: Console, folder: Path, rows: list[Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for r in rows:
        if r.trace:
            name = r.name.split(" / ")[0] + ".json"
            (folder / name).write_text(json.dumps(r.trace, indent=1) + "\n")
    console.print(f"counterexample traces in {escape(str(folder))}")
