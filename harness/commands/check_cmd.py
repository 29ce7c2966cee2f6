"""`cascadecheck check`: the main job — does an implementation keep every point-in-time image?"""

from __future__ import annotations

import argparse
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..campaign import Verdict, run_campaign
from ..drivers import DriverError, open_driver

DEFAULT_DB = ".cascadecheck/examples"


def add_parser(sub: Any) -> None:
    """Register the subcommand."""
    p = sub.add_parser("check", help="check an implementation with generated operation sequences")
    p.add_argument(
        "--driver",
        default="reference",
        help="reference (default), python:MODULE:CLASS, exec:COMMAND, or a real engine: "
        "qemu-live, qemu-offline, qemu-cbw, nbdkit-cow, reflink-btrfs, reflink-xfs",
    )
    p.add_argument("--examples", type=int, default=200, help="sequences to try (default 200)")
    p.add_argument("--steps", type=int, default=50, help="operations per sequence (default 50)")
    p.add_argument("--seed", type=int, help="random seed (default: fresh)")
    p.add_argument("--policy", choices=["per-type", "mixed"], default="per-type")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per request (exec)")
    p.add_argument(
        "--shrink-seconds",
        type=int,
        default=30,
        help="stop shrinking a counterexample after this long (default 30)",
    )
    p.add_argument(
        "--no-step-check",
        action="store_true",
        help="skip the concrete evaluation of the rules on exposed internals",
    )
    p.add_argument(
        "--out", default="cascadecheck-failure.json", help="where a counterexample trace is saved"
    )
    p.add_argument("--database", default=DEFAULT_DB, help="Hypothesis example database")
    p.add_argument("--junit", metavar="FILE", help="write a JUnit XML report")
    p.add_argument("--json", metavar="FILE", help="write the verdict as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Exit 0 conforms, 1 nonconformance, 2 usage or driver error."""
    console = Console()
    if args.examples < 1 or args.steps < 1 or args.timeout <= 0:
        console.print("[red]error:[/red] --examples, --steps and --timeout must be positive")
        return 2
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    try:
        probe = open_driver(args.driver, args.timeout)
        probe.close()
    except DriverError as err:
        console.print(f"[red]driver error:[/red] {escape(str(err))}")
        return 2
    with Progress(
        TextColumn("[bold]checking[/] {task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} sequences, {task.fields[steps]} steps"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(escape(args.driver), total=args.examples, steps=0)

        def tick(record: Any) -> None:
            progress.update(task, advance=1, steps=record.steps)

        try:
            verdict = run_campaign(
                lambda: open_driver(args.driver, args.timeout),
                examples=args.examples,
                steps=args.steps,
                seed_value=seed,
                policy=args.policy,
                step_check=not args.no_step_check,
                save_to=args.out,
                database=args.database,
                shrink_seconds=args.shrink_seconds,
                on_example=tick,
            )
        except DriverError as err:
            console.print(f"[red]driver error:[/red] {escape(str(err))}")
            return 2
    report(console, verdict, args)
    if args.junit:
        write_junit(Path(args.junit), verdict)
    if args.json:
        Path(args.json).write_text(json.dumps(verdict.summary(), indent=2) + "\n")
    return verdict.exit_code


def report(console: Console, v: Verdict, args: argparse.Namespace) -> None:
    """The summary: steps, rules covered, deepest cascade, verdict."""
    table = Table(title=f"cascadecheck check — {escape(v.driver)}", show_header=False)
    table.add_row(
        "verdict",
        {"conforms": "[green]conforms[/]", "nonconformance": "[red]nonconformance found[/]"}.get(
            v.status, f"[red]driver error ({v.kind})[/]"
        ),
    )
    table.add_row("sequences", str(v.examples))
    table.add_row("steps", f"{v.steps} in {v.seconds:.1f}s")
    table.add_row("deepest cascade", f"{v.deepest} targets")
    table.add_row("rules fired", ", ".join(f"{k} {n}" for k, n in sorted(v.fired.items())))
    table.add_row("seed", f"{v.seed}   (example database: {escape(v.database)})")
    console.print(table)
    if v.status != "conforms":
        console.print(f"[red]{escape(v.kind)}:[/] {escape(v.problem)}")
        if v.explanation and v.explanation != v.problem:
            console.print(escape(v.explanation))
        if v.shrink_capped:
            console.print(
                f"shrinking stopped after {args.shrink_seconds} s (--shrink-seconds): the "
                "counterexample is correct but may not be the shortest"
            )
        if v.trace_path:
            console.print(
                f"counterexample ({len(v.trace['ops']) if v.trace else 0} operations)"
                f" saved to {escape(v.trace_path)}; reproduce with\n"
                f"  cascadecheck replay {escape(v.trace_path)} --driver "
                f"{escape(repr(args.driver))}"
            )


def write_junit(path: Path, v: Verdict) -> None:
    """One test case per campaign, failed with the explanation when nonconforming."""
    suite = ET.Element(
        "testsuite",
        name="cascadecheck",
        tests="1",
        failures=str(int(v.status == "nonconformance")),
        errors=str(int(v.status == "driver_error")),
        time=f"{v.seconds:.3f}",
    )
    case = ET.SubElement(
        suite, "testcase", classname="cascadecheck.check", name=v.driver, time=f"{v.seconds:.3f}"
    )
    if v.status != "conforms":
        tag = "failure" if v.status == "nonconformance" else "error"
        node = ET.SubElement(case, tag, message=v.problem, type=v.kind)
        node.text = f"{v.explanation}\ntrace: {v.trace_path}"
    ET.ElementTree(suite).write(path, encoding="unicode", xml_declaration=True)
