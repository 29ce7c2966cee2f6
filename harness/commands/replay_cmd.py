"""`cascadecheck replay TRACE`: run a trace, print each answer, check each expect."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..drivers import DriverError, open_driver
from ..protocol import answer_problem
from ..trace import TraceError, VolumeTracker, load_trace, replay
from .common import timeout, trace_file

HIDDEN = ("copies", "events")


def add_parser(sub: Any) -> None:
    """Register the subcommand."""
    p = sub.add_parser("replay", help="run a trace and check every expect")
    p.add_argument(
        "trace", help="a cascadecheck/trace-1 file, or the name of a shipped scenario (restore)"
    )
    p.add_argument(
        "--timeout",
        type=timeout,
        help="seconds a request may take (default: 10 for exec, 60 in process)",
    )
    p.add_argument("--driver", default="reference", help="implementation (default: reference)")
    p.add_argument("--policy", choices=["per-type", "mixed"], help="override the trace's policy")
    p.add_argument("--show", action="store_true", help="print images and cascades after each step")
    p.add_argument("--verbose", action="store_true", help="print grain copies and state events")
    p.set_defaults(func=run)


def _summary(answer: dict[str, Any], verbose: bool) -> str:
    shown = answer if verbose else {k: v for k, v in answer.items() if k not in HIDDEN}
    return escape(json.dumps(shown))


def _show(console: Console, driver: Any, tracker: VolumeTracker) -> None:
    table = Table(show_header=True, header_style="bold", box=None, padding=(0, 2))
    table.add_column("volume")
    table.add_column("image")
    for volume, image in tracker.images(driver).items():
        shown = " ".join(t or "·" for t in image) if isinstance(image, list) else image
        table.add_row(escape(volume), escape(shown))
    console.print(table)
    a = driver.request({"op": "cascades"})
    if a.get("ok") and answer_problem("cascades", a) is None:
        for c in a["cascades"]:
            console.print(escape(f"  cascade [{c['type']}]: " + " -> ".join(c["volumes"])))


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every expect holds, 1 when one does not, 2 for a bad file or driver."""
    console = Console(highlight=False, soft_wrap=True)
    path = trace_file(args.trace)
    try:
        trace = load_trace(path)
    except TraceError as err:
        console.print(f"[red]bad trace[/red] {escape(str(err))}")
        return 2
    failures = 0
    tracker = VolumeTracker()
    try:
        with open_driver(args.driver, args.timeout) as driver:
            for step in replay(trace, driver, args.policy):
                tracker.follow(step.request, step.answer)
                mark = "[green]ok[/green]" if step.problem is None else "[red]FAIL[/red]"
                request = escape(json.dumps(step.request))
                console.print(
                    f"{step.index:>3} line {step.line:<4} {mark} {request}\n"
                    f"      -> {_summary(step.answer, args.verbose)}"
                )
                if step.problem:
                    failures += 1
                    console.print(f"      [red]expect failed[/red] {escape(step.problem)}")
                if args.show:
                    _show(console, driver, tracker)
    except DriverError as err:
        console.print(f"[red]driver error[/red] {escape(str(err))}")
        return 2
    verdict = "all expects hold" if not failures else f"{failures} expect(s) failed"
    console.print(f"{len(trace.ops)} operations, {verdict}")
    return 1 if failures else 0
