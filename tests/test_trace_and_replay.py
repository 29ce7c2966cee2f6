"""Trace files, `expect` matching and the `replay` command's exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.campaign.corpus import SCENARIOS
from harness.cli import main
from harness.trace import Trace, TraceError, TraceOp, load_trace, mismatch, parse_trace

EXAMPLES = sorted(SCENARIOS.glob("*.json"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_replays_with_all_expects_holding(path: Path) -> None:
    trace = load_trace(path)
    assert sum(op.expect is not None for op in trace.ops) >= 5, "an example must check things"
    assert main(["replay", str(path)]) == 0


def _band_grains(rate: int) -> int:
    """product.md 2.4, in the specification's steps: 1 grain at rates 1-10, doubling each ten."""
    return 2 ** ((rate + 9) // 10 - 1)


def test_every_rate_band_is_checked_at_both_edges_by_the_table() -> None:
    """`rate-bands-every-band` holds, for every band of the product's table up to 111-120, a
    copy at its first and last rate and a cleaning step at its last, each on a volume one
    grain larger than the band moves, and every expect is the table's figure (not an
    engine's answer): a rule wrong for one band only fails it (stop 28: rates 41-50 moving 8
    grains conformed). Bands above would need volumes of 4,097 grains and more, seconds of
    every campaign; `rate-bands` checks rate 150."""
    trace = load_trace(SCENARIOS / "rate-bands-every-band.json")
    requests = [op.request for op in trace.ops]
    sizes = {r["volume"]: r["size"] for r in requests if r["op"] == "create_volume"}
    maps = {r["map"]: r for r in requests if r["op"] == "create_map"}
    stopped: set[str] = set()
    copy_rates: set[int] = set()
    clean_rates: set[int] = set()
    for op in trace.ops:
        request = op.request
        if request["op"] == "stop":
            stopped.add(request["map"])
        if request["op"] != "copy" or "grains" in request:
            continue
        m = maps[request["map"]]
        grains = sizes[m["target"]] // trace.grain_size
        rate = m["clean_rate"] if m["map"] in stopped else m["copy_rate"]
        assert op.expect is not None and op.expect["copied"] == _band_grains(rate), request
        assert _band_grains(rate) < grains  # one grain more than the band moves
        (clean_rates if m["map"] in stopped else copy_rates).add(rate)
    edges = {r for k in range(1, 13) for r in (10 * k - 9, 10 * k)}
    assert copy_rates == edges
    assert clean_rates == {10 * k for k in range(1, 13)}


def test_examples_cover_both_policies() -> None:
    policies = {load_trace(p).policy for p in EXAMPLES}
    assert policies == {"per-type", "mixed"}


def test_a_failing_expect_exits_1_and_names_the_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "t.json"
    path.write_text(
        '{"format": "cascadecheck/trace-1", "ops": [\n'
        ' {"op": "create_volume", "volume": "S", "size": 2},\n'
        ' {"op": "read", "volume": "S", "block": 0, "count": 2, "expect": {"data": ["x", ""]}}\n'
        "]}\n"
    )
    assert main(["replay", str(path)]) == 1
    out = capsys.readouterr().out
    assert "line 3" in out and 'expected "x", got ""' in out


@pytest.mark.parametrize(
    "text,line,words",
    [
        (
            '{"format": "cascadecheck/trace-1",\n "ops": [\n {"op": "settle"}\n {"op": "settle"}]}',
            4,
            "not valid JSON",
        ),
        (
            '{"format": "cascadecheck/trace-1", "ops": [\n {"op": "settle"},\n {"volume": "S"}\n]}',
            3,
            'needs an "op"',
        ),
        ('{"format": "cascadecheck/trace-1", "ops": [\n {"op": "settle"},\n  7]}', 3, "op"),
        ('{"format": "trace-0", "ops": []}', 1, '"format"'),
        ('{"format": "cascadecheck/trace-1", "grain_size": 0, "ops": []}', 1, "grain_size"),
        ('{"format": "cascadecheck/trace-1", "policy": "tree", "ops": []}', 1, "policy"),
        ('{"format": "cascadecheck/trace-1", "ops": {}}', 1, '"ops"'),
        ('{"format": "cascadecheck/trace-1", "ops": [], "extra": 1}', 1, "extra"),
        ("[1, 2]", 1, "JSON object"),
    ],
)
def test_bad_traces_are_named_errors_with_a_line(text: str, line: int, words: str) -> None:
    with pytest.raises(TraceError) as err:
        parse_trace(text, "t.json")
    assert err.value.line == line
    assert words in str(err.value) and f"t.json:{line}" in str(err.value)


def test_bad_files_exit_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["replay", str(bad)]) == 2
    assert main(["replay", str(tmp_path / "missing.json")]) == 2
    assert main(["replay", str(EXAMPLES[0]), "--driver", "python:no.such:Thing"]) == 2
    assert main(["replay", str(EXAMPLES[0]), "--driver", "telnet:x"]) == 2
    out = capsys.readouterr().out
    assert "bad trace" in out and "driver error" in out


def test_invalid_operations_in_a_trace_are_answered_not_crashed(tmp_path: Path) -> None:
    trace = Trace(
        ops=[
            TraceOp(
                {"op": "create_volume", "volume": "S", "size": -1},
                {"ok": False, "error": "bad_request"},
            ),
            TraceOp(
                {"op": "read", "volume": "S", "block": 0, "count": 1},
                {"ok": False, "error": "unknown_volume"},
            ),
        ]
    )
    trace.dump(tmp_path / "t.json")
    assert main(["replay", str(tmp_path / "t.json")]) == 0


def test_policy_override_changes_the_cascades(capsys) -> None:  # type: ignore[no-untyped-def]
    per_type = SCENARIOS / "per-type-cascades.json"
    assert main(["replay", str(per_type), "--policy", "mixed"]) == 1
    assert "expect failed .cascades" in capsys.readouterr().out


def test_show_prints_images_and_cascades(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["replay", str(EXAMPLES[0]), "--show"]) == 0
    out = capsys.readouterr().out
    assert "cascade [" in out and "image" in out


def test_dump_and_load_round_trip(tmp_path: Path) -> None:
    trace = load_trace(EXAMPLES[0])
    trace.dump(tmp_path / "copy.json")
    again = load_trace(tmp_path / "copy.json")
    assert [o.request for o in again.ops] == [o.request for o in trace.ops]
    assert [o.expect for o in again.ops] == [o.expect for o in trace.ops]
    assert [o.line for o in again.ops] == list(range(2, 2 + len(trace.ops)))


def test_mismatch_is_subset_for_objects_and_exact_for_lists_and_types() -> None:
    assert mismatch({"ok": True}, {"ok": True, "data": []}) is None
    assert mismatch({"data": ["a"]}, {"data": ["a", "b"]}) is not None
    assert mismatch({"n": 1}, {"n": True}) is not None
    assert mismatch({"x": {"y": 1}}, {"x": {"y": 2}}) == ".x.y: expected 1, got 2"
    assert mismatch({"z": 1}, {}) == ".z: missing (expected 1)"
    assert json.dumps(None) == "null"
