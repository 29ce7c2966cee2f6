"""The shipped scenario corpus runs every line of the specification engine's rules.

Generation reaches most of the rules most of the time; the corpus is the deterministic floor
that runs before it, on every implementation, at every seed. Three outside-written buggy
engines conformed at stop 30 because the corpus never ran the rule they broke (a group's
membership closed while a member stops; a stop of a prepared map; a forced stop of a
restore), and generation happened not to reach it either. So every line of `reference/`
(its mutants and wrappers aside) must be run by the corpus through the lockstep session —
measured with coverage.py — except the lines listed below, each with the reason no shipped
trace runs it. A rule added to the engine without a scenario fails this test.
"""

from __future__ import annotations

import json
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import coverage

ROOT = Path(__file__).resolve().parent.parent
# lines no shipped trace runs: (file, the line's text — robust to edits elsewhere), and why
EXEMPT = {
    (
        "engine.py",
        'raise ValueError(f"policy must be one of {POLICIES}")',
    ): "a guard against a programming error: requests are validated first (bad_request)",
    (
        "errors.py",
        'raise ValueError(f"unknown error code {code!r}")',
    ): "a guard against a programming error: every code is a constant of the engine's",
    (
        "lifecycle.py",
        'raise OpError("limit", f"{source!r} is already the source of 256 maps")',
    ): "the product's limits need 257 maps: a trace that long would cost the real engines "
    "minutes (tests/test_refusals.py asks it of the reference)",
    (
        "lifecycle.py",
        'raise OpError("limit", "the connected tree of maps would exceed 256")',
    ): "as above",
    (
        "requests.py",
        'raise OpError("bad_request", f"{where} items must not be negative")',
    ): "only internals takes a grain list, and every engine but the reference skips a trace "
    "that asks for internals (tests/test_refusals.py asks it)",
    (
        "requests.py",
        'raise OpError("bad_request", "an operation is a JSON object")',
    ): "a trace's operations are objects (tests/test_refusals.py sends one that is not)",
    (
        "requests.py",
        'raise OpError("bad_request", "an operation needs an \'op\' string field")',
    ): "a trace's operations name their op (tests/test_refusals.py sends one that does not)",
    (
        "topology.py",
        'raise AssertionError("a read walked off the top of a cascade")',
    ): "an invariant of the engine's own: reaching it is a bug of the engine",
    (
        "topology.py",
        "return None",
    ): "parent and chain_prev of a node with no chain predecessor: every caller passes a "
    "target position, and a target always has one (its head or the target before it)",
}


def _run_corpus(leave_out: str = "") -> dict[str, object]:
    """`_measure` in a fresh interpreter: in one that imported the engine before coverage
    started (any other test in the same worker), every `def` line would count as unrun."""
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_measure, leave_out).result()


def _measure(leave_out: str) -> dict[str, object]:
    """Every shipped scenario (but `leave_out`) through the lockstep session, the reference
    on both sides, under coverage.py; its JSON report."""
    cov = coverage.Coverage(
        branch=True,
        data_file=None,
        source=[str(ROOT / "reference")],
        omit=[str(ROOT / "reference" / "mutants*"), str(ROOT / "reference" / "wrappers.py")],
    )
    fresh = not any(m == "reference" or m.startswith("reference.") for m in sys.modules)
    assert fresh, "the engine was imported before coverage started: its def lines would not count"
    cov.start()
    from harness.campaign.corpus import SCENARIOS, corpus_files, run_trace
    from harness.core.hello import Hello
    from harness.drivers import open_driver, open_spec
    from harness.generate.record import Options, Record
    from harness.trace import load_trace

    try:
        sut = open_driver("reference")
        hello = Hello.parse(sut.request({"op": "hello"}))
        options = Options(True, False, hello.policies)
        record = Record(lambda: open_driver("reference"), open_spec, hello, options, sut=sut)
        traces = [p for p in corpus_files([SCENARIOS]) if p.name != leave_out]
        skipped = {p.name: run_trace(record, load_trace(p)) for p in traces}
        record.close()
    finally:
        cov.stop()
    assert not any(skipped.values()), skipped  # the reference runs every scenario whole
    out = Path(tempfile.mkdtemp()) / "coverage.json"
    cov.json_report(outfile=str(out))
    return json.loads(out.read_text())


def _missed(report: dict[str, object]) -> tuple[list[str], set[tuple[str, str]]]:
    """The lines no trace ran that are not exempt, and the exemptions used."""
    files = report["files"]  # type: ignore[index]
    assert {Path(f).name for f in files} >= {"lifecycle.py", "datapath.py", "topology.py"}
    missed, used = [], set()
    for name, data in files.items():
        text = (ROOT / name if not Path(name).is_absolute() else Path(name)).read_text()
        lines = text.splitlines()
        for n in data["missing_lines"]:
            line = (Path(name).name, lines[n - 1].strip())
            if line in EXEMPT:
                used.add(line)
            else:
                missed.append(f"{line[0]}:{n}: {line[1]}")
    return missed, used


def test_the_corpus_runs_every_line_of_the_reference_engine() -> None:
    missed, used = _missed(_run_corpus())
    assert not missed, "lines of the reference engine no shipped scenario runs:\n" + "\n".join(
        missed
    )
    assert used == set(EXEMPT), set(EXEMPT) - used  # an exemption no longer needed is dropped


def test_the_gate_names_the_rules_a_missing_scenario_leaves_unrun() -> None:
    """The control: without `refusal-states.json` the rules only it runs are named — the
    group closed to new members while one is active, among them."""
    missed, _ = _missed(_run_corpus(leave_out="refusal-states.json"))
    assert any("is active" in m for m in missed), missed
    assert any("already prepared" in m for m in missed), missed
