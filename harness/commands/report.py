"""A verdict for people (the terminal) and for machines (JSON, JUnit XML)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..campaign import Verdict

SHOWN = {
    "conforms": "[green]conforms[/]",
    "nonconformance": "[red]nonconformance found[/]",
    "inconclusive": "[yellow]inconclusive[/]",
    "driver_error": "[red]driver error[/]",
    "interrupted": "[yellow]interrupted[/]",
}


def print_verdict(console: Console, v: Verdict, driver: str) -> None:
    """The summary: the verdict, what ran, what was reached, what was not verified."""
    table = Table(title=f"cascadecheck check — {escape(v.driver)}", show_header=False)
    table.add_row("verdict", SHOWN[v.status] + (f" ({escape(v.kind)})" if v.kind else ""))
    asked = f"for {v.duration:.0f}s" if v.duration else f"{v.budget} asked"
    gaps = f", {v.gap_sequences} in {v.gap_rounds} gap rounds" if v.gap_rounds else ""
    if v.goal_rounds:
        gaps += f", {v.goal_sequences} in {v.goal_rounds} goal rounds"
    rounds = f", {v.rounds} Hypothesis runs" if v.rounds > 1 else ""
    long = f", {v.long_sequences} long" if v.long_sequences else ""
    table.add_row("sequences", f"{v.sequences} ({asked}{long}{gaps}{rounds})")
    if len(v.workers) > 1:
        table.add_row("workers", ", ".join(f"{w['sequences']} ({w['status']})" for w in v.workers))
    table.add_row("steps", f"{v.steps} in {v.seconds:.1f}s")
    table.add_row("deepest cascade", f"{v.deepest} targets")
    passed = sum(1 for c in v.corpus if c["result"] == "passed")
    skipped = [c for c in v.corpus if c["result"] == "skipped"]
    table.add_row("scenario traces", f"{passed} passed, {len(skipped)} not applicable")
    table.add_row("goals reached", str(len(v.reached)))
    if v.not_verified:
        table.add_row(
            "not verified",
            "\n".join(f"{escape(k)}: {escape(r)}" for k, r in v.not_verified.items()),
        )
    if v.domain_gaps:
        gaps = "; ".join(f"{k}: {', '.join(b)}" for k, b in sorted(v.domain_gaps.items()))
        table.add_row("domain not reached", escape(gaps))
    if v.faults:
        table.add_row("declared faults", f"{len(v.faults)} (each followed, none a verdict)")
    if v.close_errors:  # not a verdict (that is about the answers), but worth knowing
        table.add_row("closing failed", escape("\n".join(v.close_errors)))
    table.add_row("seed", f"{v.seed}   (example database: {escape(v.database)})")
    console.print(table)
    if v.status == "conforms":
        return
    console.print(f"[red]{escape(v.kind or v.status)}:[/] {escape(v.problem)}")
    if v.explanation and v.explanation != v.problem:
        console.print(escape(v.explanation))
    if v.found_by.startswith("corpus:"):
        console.print(f"found by the scenario trace {escape(v.found_by[7:])}")
    if v.shrink:
        s = v.shrink
        console.print(
            f"shrunk from {s.get('from_ops', '?')} to {s.get('to_ops', '?')} operations in "
            f"{s.get('seconds', '?')}s; replays on a fresh instance: "
            f"{'yes' if s.get('replays_on_fresh_instance') else 'no'}"
        )
    if v.trace_path:
        console.print(
            f"counterexample ({len(v.trace['ops']) if v.trace else 0} operations, expectations "
            f"from the specification) saved to {escape(v.trace_path)}; reproduce with\n"
            f"  cascadecheck replay {escape(v.trace_path)} --driver {escape(repr(driver))}"
        )


def write_json(path: Path, v: Verdict) -> None:
    """The verdict as JSON (everything but the trace, which has its own file)."""
    path.write_text(json.dumps(v.summary(), indent=2, default=str) + "\n")


def write_junit(path: Path, v: Verdict) -> None:
    """One test case per campaign; a nonconformance or an inconclusive campaign fails it, a
    driver that cannot be driven errors it."""
    failed = v.status in ("nonconformance", "inconclusive")
    errored = v.status in ("driver_error", "interrupted")
    suite = ET.Element(
        "testsuite",
        name="cascadecheck",
        tests="1",
        failures=str(int(failed)),
        errors=str(int(errored)),
        time=f"{v.seconds:.3f}",
    )
    case = ET.SubElement(
        suite, "testcase", classname="cascadecheck.check", name=v.driver, time=f"{v.seconds:.3f}"
    )
    props = ET.SubElement(case, "properties")
    for name, value in (
        ("verdict", v.status),
        ("exit_code", v.exit_code),
        ("steps", v.steps),
        ("sequences", v.sequences),
        ("deepest_cascade", v.deepest),
    ):
        ET.SubElement(props, "property", name=name, value=str(value))
    if failed or errored:
        node = ET.SubElement(
            case, "failure" if failed else "error", message=v.problem, type=v.kind or v.status
        )
        node.text = f"{v.explanation}\ntrace: {v.trace_path}"
    ET.ElementTree(suite).write(path, encoding="unicode", xml_declaration=True)
