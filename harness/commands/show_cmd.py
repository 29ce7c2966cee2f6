"""`cascadecheck show` and `cascadecheck explain`: watch a trace, in pictures or in words."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from ..drivers import DriverError, open_driver
from ..trace import TraceError, load_trace
from ..views.pictures import grain_table, html_report, render
from ..views.walk import Snapshot, walk
from .common import UsageError, folder, trace_file, writable


def add_parser(sub: Any) -> None:
    """Register both subcommands."""
    p = sub.add_parser("show", help="pictures of the cascades and grain tables after each step")
    p.add_argument("trace", help="a cascadecheck/trace-1 file, or a shipped scenario's name")
    p.add_argument("--step", type=int, help="only this step (1-based)")
    p.add_argument("--format", choices=["text", "svg", "png", "html"], default="text")
    p.add_argument("--out", help="file (html) or folder (svg/png; one file per step)")
    _common(p)
    p.set_defaults(func=run_show)
    e = sub.add_parser("explain", help="a trace in words, one line per effect")
    e.add_argument("trace", help="a cascadecheck/trace-1 file, or a shipped scenario's name")
    _common(e)
    e.set_defaults(func=run_explain)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--driver",
        default="reference",
        help="an implementation exposing internals (default: reference)",
    )
    p.add_argument("--policy", choices=["per-type", "mixed"], help="override the trace's policy")


def _walk(console: Console, args: argparse.Namespace) -> list[Snapshot] | None:
    try:
        trace = load_trace(trace_file(args.trace))
        with open_driver(args.driver) as driver:
            return walk(trace, driver, args.policy)
    except (TraceError, DriverError) as err:
        console.print(f"[red]error:[/red] {escape(str(err))}")
        return None


def run_explain(args: argparse.Namespace) -> int:
    """Print the walk in words; exit 1 if an expectation failed."""
    console = Console()
    snaps = _walk(console, args)
    if snaps is None:
        return 2
    for s in snaps:
        for i, line in enumerate(s.lines):
            console.print(
                escape(f"{s.index:>3} {line}" if i == 0 else f"    {line}"),
                style="red" if s.problem and "FAILED" in line else None,
            )
    return 1 if any(s.problem for s in snaps) else 0


def run_show(args: argparse.Namespace) -> int:
    """Pictures after each step (or one step); exit 1 if an expectation failed."""
    console = Console()
    if args.format in ("svg", "png") and not args.out:
        raise UsageError(f"--format {args.format} writes one file per step: name a folder (--out)")
    if args.out:
        folder(args.out) if args.format in ("svg", "png") else writable(args.out)
    snaps = _walk(console, args)
    if snaps is None:
        return 2
    chosen = snaps
    if args.step is not None:
        if not 1 <= args.step <= len(snaps):
            console.print(f"[red]error:[/red] --step must be 1..{len(snaps)}")
            return 2
        chosen = [snaps[args.step - 1]]
    try:
        if args.format == "text":
            for s in chosen:
                console.print("\n".join(escape(x) for x in s.lines))
                for c in s.cascades:
                    console.print(escape(f"  {c['type']} cascade: {' -> '.join(c['volumes'])}"))
                console.print(grain_table(s))
        elif args.format == "html":
            text = html_report(f"cascadecheck: {Path(args.trace).name}", chosen)
            out = Path(args.out or Path(args.trace).with_suffix(".html").name)
            out.write_text(text)
            console.print(f"wrote {escape(str(out))}")
        else:
            where = Path(args.out)
            for s in chosen:
                path = where / f"{Path(args.trace).stem}-step{s.index:03}.{args.format}"
                path.write_bytes(render(s, args.format))
            console.print(f"wrote {len(chosen)} {args.format} file(s) to {escape(str(where))}")
    except Exception as err:  # graphviz's dot missing or failing: a named error, not a traceback
        if type(err).__name__ in ("ExecutableNotFound", "CalledProcessError"):
            console.print(
                "[red]error:[/red] graphviz's `dot` is needed for pictures "
                f"(apt-get install graphviz): {escape(str(err))}"
            )
            return 2
        raise
    return 1 if any(s.problem for s in snaps) else 0
