"""Teaching views: words, pictures (graphviz's dot) and the HTML report in a real browser."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.campaign.corpus import SCENARIOS
from harness.cli import main
from harness.drivers import open_driver
from harness.trace import load_trace
from harness.views.walk import walk

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = SCENARIOS
# CI installs graphviz and chromium and sets this, so a missing tool fails instead of skipping
REQUIRED = os.environ.get("CASCADECHECK_REQUIRE_TOOLS") == "1"


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if REQUIRED:
            pytest.fail(f"{tool} is required (apt-get install graphviz chromium)")
        pytest.skip(f"{tool} not installed (apt-get install graphviz chromium)")
    return path


def test_walk_explains_copies_and_redirected_reads() -> None:
    snaps = walk(load_trace(EXAMPLES / "stop-middle-target.json"), open_driver("reference"))
    text = "\n".join(line for s in snaps for line in s.lines)
    assert "grain 1 copied S -> T2" in text and "T1 reads it through T2" in text
    assert "snapshot cascade now: S -> T3 -> T2 -> T1" in text
    last_write = next(s for s in reversed(snaps) if s.request["op"] == "write")
    assert last_write.served  # every volume has a grain table


def test_explain_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(EXAMPLES / "restore.json")]) == 0
    out = capsys.readouterr().out
    assert "copied" in out and "restore" in out
    assert main(["explain", "no-such-trace.json"]) == 2


def test_show_text_and_pictures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    need("dot")
    trace = str(EXAMPLES / "per-type-cascades.json")
    assert main(["show", trace, "--step", "3"]) == 0
    assert "grain" in capsys.readouterr().out
    assert main(["show", trace, "--format", "svg", "--out", str(tmp_path)]) == 0
    svgs = sorted(tmp_path.glob("*.svg"))
    assert svgs and "<svg" in svgs[-1].read_text()
    texts = [p.read_text() for p in svgs]
    assert any("clone cascade" in t and "snapshot cascade" in t for t in texts)
    assert main(["show", trace, "--format", "png", "--step", "9", "--out", str(tmp_path)]) == 0
    png = next(tmp_path.glob("*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["show", trace, "--step", "999"]) == 2


def test_html_report_of_a_failure_loads_in_chromium(tmp_path: Path) -> None:
    """A mutant's counterexample: the report highlights the first failed expectation, and a
    real headless browser renders it to a screenshot."""
    need("dot")
    chromium = need("chromium")
    from harness.campaign import run_campaign

    cx = tmp_path / "cx.json"
    mutant = "python:reference.mutants:RefusalChangesState"
    v = run_campaign(lambda: open_driver(mutant), examples=300, steps=50, seed=0, save_to=cx)
    assert v.status == "nonconformance"
    report = tmp_path / "report.html"
    assert (
        main(["show", str(cx), "--driver", mutant, "--format", "html", "--out", str(report)]) == 1
    )  # an expectation fails on the mutant
    text = report.read_text()
    assert "First failed expectation" in text and "class='failure'" in text
    assert "<svg" in text and "http" not in text.split("<svg")[0]  # self-contained
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1200,1600",
            report.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
