"""A corpus of misbehaving drivers: each gets its named verdict, in bounded time and memory, with
its processes reaped, its reports written and a trace that ends with the unanswered request.

Every driver is a tiny program speaking the exec wire. The well-behaved part forwards to the
reference engine; the misbehaviour happens at a chosen request. Timeouts here are seconds, not
fractions (machines running this are shared and slow), and time bounds are generous margins.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from harness.campaign import Plan, run_campaign
from harness.campaign.corpus import SCENARIOS
from harness.cli import main
from harness.drivers import DriverError, open_driver
from model.vocabulary import ANSWERS, REQUESTS

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
TIMEOUT = 3.0  # seconds per request for the drivers below
MARGIN = 30.0  # what a loaded machine may add to a verdict's time

PRELUDE = f"""
import json, os, sys, time
sys.path.insert(0, {str(ROOT)!r})
from reference import Engine
engine, n = Engine(), 0
def answer(a, ident):
    sys.stdout.write(json.dumps({{**a, "id": ident}}) + "\\n"); sys.stdout.flush()
for line in sys.stdin:
    r = json.loads(line)
    ident = r.pop("id")
    n += 1
"""


def program(tmp_path: Path, body: str, name: str = "driver.py") -> str:
    """A driver program: the prelude's loop, then `body` (indented into it), then a normal
    answer from the reference engine."""
    path = tmp_path / name
    loop = textwrap.indent(textwrap.dedent(body).strip("\n") + "\n", "    ")
    path.write_text(PRELUDE + loop + "    answer(engine.handle(r), ident)\n")
    return f"exec:{PY} {path}"


def campaign(driver: str, tmp_path: Path, **kw: object):  # type: ignore[no-untyped-def]
    settings: dict = {"examples": 3, "steps": 20, "seed": 1, "corpus": []} | kw
    plan = Plan(save_to=tmp_path / "cx.json", **settings)
    return run_campaign(lambda: open_driver(driver, TIMEOUT), plan)


# -- verdicts -------------------------------------------------------------------------------
CASES = {
    "crashes at once": ("sys.exit(3)", "crashed"),
    "crashes at request 30": ("if n == 30: sys.exit(9)", "crashed"),
    "hangs at hello": ("if n == 1: time.sleep(600)", "timeout"),
    "hangs at request 30": ("if n == 30: time.sleep(600)", "timeout"),
    "prints garbage": ("if n == 30: print('hello there', flush=True); continue", "garbage"),
    "answers the wrong id": (
        "if n == 30: answer({'ok': True}, ident + 1); continue",
        "out_of_order",
    ),
    "answers the first request with id true, which is not 1": (
        "if n == 1: answer(engine.handle(r), True); continue",
        "out_of_order",
    ),
    "answers without an id": (
        "if n == 30: print(json.dumps({'ok': True}), flush=True); continue",
        "out_of_order",
    ),
    "closes stdout, keeps running": ("if n == 30: os.close(1); time.sleep(600)", "crashed"),
    "exits at request 30, a process it forked keeping stdout open": (
        "if n == 30:\n    if os.fork() == 0: time.sleep(600)\n    os._exit(0)",
        "crashed",
    ),
    "answers NaN, which is not JSON": (
        'if n == 30: print(\'{"ok": true, "id": %d, "x": NaN}\' % ident, flush=True); continue',
        "garbage",
    ),
    "an endless line": (
        "if n == 30:\n    while True: sys.stdout.write('a' * 65536)",
        "garbage",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_misbehaviour_gets_its_named_verdict(case: str, tmp_path: Path) -> None:
    body, verdict = CASES[case]
    began = time.monotonic()
    v = campaign(program(tmp_path, body), tmp_path)
    assert (v.status, v.kind) == ("driver_error", verdict), (v.status, v.kind, v.problem)
    assert v.exit_code == 2
    assert time.monotonic() - began < TIMEOUT + MARGIN
    if "30" in body:  # the trace so far ends with the request that got no answer
        ops = json.loads((tmp_path / "cx.json").read_text())["ops"]
        assert ops and "expect" in ops[-1]
        assert main(["replay", str(tmp_path / "cx.json"), "--driver", "reference"]) == 0


def test_a_crash_trace_reproduces_the_crash_on_replay(tmp_path: Path) -> None:
    driver = program(tmp_path, "if n == 30: sys.exit(9)")
    v = campaign(driver, tmp_path)
    assert v.kind == "crashed"
    ops = json.loads((tmp_path / "cx.json").read_text())["ops"]
    # replay sends hello and reset first, then the trace: request 30 is the trace's 28th
    assert len(ops) == 28
    assert main(["replay", str(tmp_path / "cx.json"), "--driver", driver]) == 2


def test_children_are_reaped(tmp_path: Path) -> None:
    """A driver that starts a helper in its process group and then hangs: after the verdict
    neither is left running."""
    pids = tmp_path / "pids"
    body = f"""
        if n == 1:
            import subprocess
            helper = subprocess.Popen(["sleep", "600"])
            open({str(pids)!r}, "w").write(f"{{os.getpid()}} {{helper.pid}}")
        if n == 30: time.sleep(600)
    """
    v = campaign(program(tmp_path, body), tmp_path)
    assert v.kind == "timeout"
    for pid in map(int, pids.read_text().split()):
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()


# -- answers of the wrong shape: a named nonconformance, never a Python exception -------------
SENT = sorted(op for op in REQUESTS if op not in ("hello", "reset", "internals", "inject"))


@pytest.mark.parametrize("op", SENT)
def test_a_wrong_shape_answer_to_any_operation_is_malformed(op: str, tmp_path: Path) -> None:
    wrong = "{'ok': True}" if ANSWERS.get(op) else "{'ok': False, 'error': 'nonsense'}"
    body = f"if r['op'] == {op!r} and n > 2: answer({wrong}, ident); continue"
    v = campaign(program(tmp_path, body), tmp_path, examples=30, corpus=[SCENARIOS])
    assert (v.status, v.kind) == ("nonconformance", "malformed"), (op, v.status, v.problem)
    assert v.exit_code == 1


@pytest.mark.parametrize(
    "hello",
    [
        "{'ok': True, 'name': 'x'}",  # no version, ops, exposes, policies
        "{'ok': True, 'name': 'x', 'version': '1', 'protocol': 'cascadecheck/1', 'ops': "
        "['hello', 'reset', 'create_volume', 'write', 'read', 'fly'], 'exposes': ['images'], "
        "'policies': ['per-type']}",  # an operation the vocabulary does not know
        "{'ok': True, 'name': 'x', 'version': '1', 'protocol': 'cascadecheck/1', 'ops': "
        "['hello', 'reset', 'create_volume', 'write', 'read'], 'exposes': ['images'], "
        "'policies': ['per-type'], 'unsupported': {'stop.splt': 'typo'}}",  # misspelt
    ],
)
def test_a_malformed_hello_is_a_verdict(hello: str, tmp_path: Path) -> None:
    v = campaign(
        program(tmp_path, f"if r['op'] == 'hello': answer({hello}, ident); continue"), tmp_path
    )
    assert (v.status, v.kind) == ("nonconformance", "malformed"), v.problem
    assert "hello" in v.problem


def test_huge_valid_answers_are_read_and_checked(tmp_path: Path) -> None:
    body = """
        if r['op'] == 'read':
            a = engine.handle(r); a['padding'] = 'x' * 5_000_000; answer(a, ident); continue
    """
    v = campaign(program(tmp_path, body), tmp_path, fill_gaps=False)  # 3 sequences suffice
    assert v.status in ("conforms", "inconclusive"), v.problem
    assert any(r["op"] == "read" and r["outcome"] == "accepted" for r in v.by_rule)  # 5 MB each


# -- bounded memory, measured in a separate process ------------------------------------------
MEASURE = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:], capture_output=True).returncode
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _peak_rss_mb(args: list[str], cwd: Path) -> tuple[int, float]:
    """Run the command line from a fresh process, whose children are only it and what it
    starts; its exit code and the largest resident memory any of them reached."""
    done = subprocess.run(
        [PY, "-c", MEASURE, *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    code, peak_kb = done.stdout.split()
    return int(code), int(peak_kb) / 1024


@pytest.mark.parametrize(
    ("body", "verdict"),
    [
        ("if n == 5:\n    while True: sys.stdout.write('a' * 65536)", "garbage"),
        (
            "if n == 5:\n    chunk = 'e' * 65536 + '\\n'\n"
            "    for _ in range(8000): sys.stderr.write(chunk)\n    time.sleep(600)",
            "timeout",
        ),
    ],
    ids=["endless line", "500 MB of stderr"],
)
def test_memory_stays_bounded(body: str, verdict: str, tmp_path: Path) -> None:
    driver = program(tmp_path, body)
    report = tmp_path / "r.json"
    code, peak = _peak_rss_mb(
        [
            PY,
            "-m",
            "harness.cli",
            "check",
            "--driver",
            driver,
            "--examples",
            "2",
            "--seed",
            "1",
            "--timeout",
            "20",
            "--no-scenarios",
            "--json",
            str(report),
            "--database",
            str(tmp_path / "db"),
        ],
        tmp_path,
    )
    assert code == 2 and json.loads(report.read_text())["kind"] == verdict
    assert peak < 400, f"peak {peak:.0f} MB"


def test_driver_errors_in_process_are_named(tmp_path: Path) -> None:
    with pytest.raises(DriverError) as err:
        open_driver("python:no.such.module:Thing")
    assert err.value.verdict == "unavailable"
    assert os.environ.get("PATH")  # the exec driver runs commands without a shell


def in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, text: str) -> None:
    """An in-process implementation's module, importable by that name for this test (one
    name per case: imports are cached)."""
    (tmp_path / f"{module}.py").write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))


IN_PROCESS = """
import os
import sys
import threading
import time
from reference import Engine


class Twisted:
    def __init__(self):
        self.engine, self.n = Engine(), 0

    def handle(self, op):
        self.n += 1
        answer = self.engine.handle(op)
        return twist(answer) if self.n == 12 else answer

    def close(self):
        if CLOSE is not None:
            raise CLOSE


class Raises(dict):
    def get(self, key, default=None):
        raise RuntimeError("a method of the answer raised")

    def items(self):
        raise RuntimeError("a method of the answer raised")


def nested(depth):
    x = []
    for _ in range(depth):
        x = [x]
    return x
"""

IN_PROCESS_CASES = {
    # an exception of the implementation's that is not an Exception: still its bug
    "raises GeneratorExit": ("def twist(a): raise GeneratorExit()", "crashed"),
    "raises SystemExit": ("def twist(a): raise SystemExit(7)", "crashed"),
    # an answer whose own methods raise when the harness looks at it
    "answers a dict whose methods raise": ("def twist(a): return Raises(a)", "garbage"),
    "answers a nesting JSON cannot hold": (
        "def twist(a): return {**a, 'extra': nested(100_000)}",
        "garbage",
    ),
    "answers an integer JSON cannot print": (
        "def twist(a): return {**a, 'extra': 10 ** 5000}",
        "garbage",
    ),
    "answers NaN, which is not JSON": ("def twist(a): return {**a, 'x': float('nan')}", "garbage"),
    # a call that never returns: the harness waits for it no longer than an exec answer
    "hangs in a sleep": ("def twist(a): time.sleep(600)", "timeout"),
    "hangs in an endless loop": ("def twist(a):\n    while True: pass", "timeout"),
    # the implementation's own, not the user's Ctrl-C (which is counted, and stops the run)
    "raises KeyboardInterrupt": ("def twist(a): raise KeyboardInterrupt()", "crashed"),
    # what it does to the harness's process: put back, and a verdict (harness/drivers/guard.py)
    "moves the working directory": ("def twist(a):\n    os.chdir('/')\n    return a", "crashed"),
    "starts a thread that raises": (
        "def twist(a):\n    threading.Thread(target=lambda: 1 / 0).start()\n    return a",
        "crashed",
    ),
}


@pytest.mark.parametrize("case", sorted(IN_PROCESS_CASES))
def test_an_in_process_implementation_misbehaving_gets_its_named_verdict(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The in-process driver turns whatever an implementation raises or answers into a named
    verdict, never a traceback or an internal error (a Ctrl-C still stops the run)."""
    twist, verdict = IN_PROCESS_CASES[case]
    module = "twisted_" + "_".join(case.split()[1:4]).replace(",", "")
    in_process(tmp_path, monkeypatch, module, IN_PROCESS + twist + "\nCLOSE = None\n")
    began, cwd, hook = time.monotonic(), os.getcwd(), threading.excepthook
    v = campaign(f"python:{module}:Twisted", tmp_path)
    assert (v.status, v.kind) == ("driver_error", verdict), (v.status, v.kind, v.problem)
    assert v.exit_code == 2
    assert time.monotonic() - began < TIMEOUT + MARGIN
    assert os.getcwd() == cwd and threading.excepthook is hook  # both put back


def test_an_in_process_implementation_closing_stdout_still_gets_its_verdict_printed(
    tmp_path: Path,
) -> None:
    """Closing `sys.stdout` ended `cascadecheck check` with a traceback and no verdict: the
    stream is reopened, and the verdict (crashed) is printed on it."""
    body = IN_PROCESS + "def twist(a):\n    sys.stdout.close()\n    return a\nCLOSE = None\n"
    (tmp_path / "closes_stdout.py").write_text(body)
    done = subprocess.run(
        [
            *(PY, "-m", "harness.cli", "check", "--driver", "python:closes_stdout:Twisted"),
            *("--examples", "3", "--no-scenarios", "--database", str(tmp_path / "db")),
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "crashed" in done.stdout and "closed sys.stdout" in done.stdout, done.stdout
    assert "Traceback" not in done.stdout + done.stderr, done.stderr


@pytest.mark.parametrize("case", ["hangs in a sleep", "raises KeyboardInterrupt"])
def test_off_the_main_thread_in_process_calls_are_timed_too(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A campaign run on another thread (where no signal can interrupt a call) runs the
    implementation on a thread of its own: the same verdicts."""
    twist, verdict = IN_PROCESS_CASES[case]
    module = "threaded_" + "_".join(case.split()[:2])
    in_process(tmp_path, monkeypatch, module, IN_PROCESS + twist + "\nCLOSE = None\n")
    out: list = []
    driver = f"python:{module}:Twisted"
    worker = threading.Thread(target=lambda: out.append(campaign(driver, tmp_path)))
    worker.start()
    worker.join(TIMEOUT + MARGIN)
    assert not worker.is_alive() and out, "the campaign did not end"
    assert (out[0].status, out[0].kind) == ("driver_error", verdict), out[0].problem


def test_an_in_process_close_that_exits_does_not_end_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A close raising SystemExit is a failing close — not a verdict of its own, and not an
    exit of cascadecheck with the implementation's code."""
    body = IN_PROCESS + "def twist(a): return a\nCLOSE = SystemExit(7)\n"
    in_process(tmp_path, monkeypatch, "closing_impl", body)
    v = campaign("python:closing_impl:Twisted", tmp_path)
    # three sequences without the corpus may miss a goal (inconclusive), but nothing failed
    assert v.status in ("conforms", "inconclusive") and v.exit_code in (0, 3), v.problem
    assert v.close_errors and "SystemExit" in v.close_errors[0]  # said in the report
    with pytest.raises(DriverError) as err:
        open_driver("python:closing_impl:Twisted").close()
    assert err.value.verdict == "crashed" and "SystemExit" in err.value.message


NOT_MADE = {
    "a module that exits at import": ("raise SystemExit(4)", "unavailable"),
    "a constructor that exits": (
        "class Twisted:\n    def __init__(self): raise SystemExit(4)",
        "unavailable",
    ),
    "a constructor raising a BaseException": (
        "class Twisted:\n    def __init__(self): raise BaseException('odd')",
        "unavailable",
    ),
    "a constructor that never returns": (
        "import time\nclass Twisted:\n    def __init__(self): time.sleep(600)",
        "timeout",
    ),
    "a class without handle": ("class Twisted:\n    pass", "unavailable"),
    "a handle that is not callable": ("class Twisted:\n    handle = 5", "unavailable"),
}


@pytest.mark.parametrize("case", sorted(NOT_MADE))
def test_an_in_process_implementation_that_cannot_be_made_is_named(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading the module, making the implementation and finding its handle are its code
    too: whatever they raise, or a wait that never ends, is a verdict, not the end of
    cascadecheck with the implementation's exit code (or a traceback, or a hang)."""
    body, verdict = NOT_MADE[case]
    module = "unmade_" + "_".join(case.split()[1:4])
    in_process(tmp_path, monkeypatch, module, body + "\n")
    began = time.monotonic()
    with pytest.raises(DriverError) as err:
        open_driver(f"python:{module}:Twisted", TIMEOUT)
    assert err.value.verdict == verdict, err.value.message
    assert time.monotonic() - began < TIMEOUT + MARGIN


def test_an_in_process_close_that_hangs_is_a_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A close that never returns costs its timeout, and a close after a call that never
    returned still runs (with calls of its own, still timed): the implementation may release
    what it holds."""
    closed = tmp_path / "closed"
    body = IN_PROCESS + (
        "def twist(a): time.sleep(600)\n"
        "CLOSE = None\n"
        "class Hanging(Twisted):\n"
        "    def close(self): time.sleep(600)\n"
        "class Noting(Twisted):\n"
        f"    def close(self): open({str(closed)!r}, 'w').write('closed')\n"
    )
    in_process(tmp_path, monkeypatch, "closing_hangs", body)
    began = time.monotonic()
    with pytest.raises(DriverError) as err:
        open_driver("python:closing_hangs:Hanging", TIMEOUT).close()
    assert err.value.verdict == "timeout" and "close" in err.value.message
    driver = open_driver("python:closing_hangs:Noting", TIMEOUT)
    driver.request({"op": "hello"})
    for _ in range(10):
        driver.request({"op": "reset"})
    with pytest.raises(DriverError) as err:  # the twelfth request hangs
        driver.request({"op": "reset"})
    assert err.value.verdict == "timeout"
    with pytest.raises(DriverError) as err:  # a call overran: no more calls
        driver.request({"op": "hello"})
    assert err.value.verdict == "timeout" and "never returned" in err.value.message
    driver.close()
    assert closed.read_text() == "closed"
    assert time.monotonic() - began < 2 * TIMEOUT + MARGIN


def test_the_users_ctrl_c_during_an_implementation_call_stops_the_run(tmp_path: Path) -> None:
    """A Ctrl-C while the implementation's code runs is the user's, not the implementation's
    `KeyboardInterrupt`: the run stops as interrupted (exit 130), not with a `crashed`
    verdict."""
    marker = tmp_path / "sleeping"
    body = IN_PROCESS + (
        "import pathlib\n"
        "def twist(a):\n"
        f"    pathlib.Path({str(marker)!r}).write_text('x')\n"
        "    time.sleep(120)\n"
        "    return a\n"
        "CLOSE = None\n"
    )
    (tmp_path / "sleepy.py").write_text(body)
    proc = subprocess.Popen(
        [
            PY,
            "-m",
            "harness.cli",
            "check",
            "--driver",
            "python:sleepy:Twisted",
            "--examples",
            "3",
            "--no-scenarios",
            "--database",
            str(tmp_path / "db"),
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    began = time.monotonic()
    while not marker.exists() and time.monotonic() - began < 60 and proc.poll() is None:
        time.sleep(0.1)
    assert marker.exists(), proc.communicate()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (proc.returncode, out[-2000:], err[-2000:])
    assert "crashed" not in out and "Traceback" not in err
