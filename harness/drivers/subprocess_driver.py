"""`exec:COMMAND` — an implementation in another process, speaking JSON lines on stdin/stdout.

The command is split like a shell would (shlex) but run without one. Each request gets an
`"id"` (1, 2, ...) and its answer must echo it, so answers out of order are caught. A child
that exits, stops answering within the timeout, or prints something that is not a JSON object
gets a verdict (crashed, timeout, garbage, out_of_order); the harness never waits forever.
Standard error is kept in a temporary file and its tail is quoted in verdicts.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shlex
import subprocess
import tempfile
import threading
from typing import Any

from .base import Driver, DriverError

DEFAULT_TIMEOUT = 10.0


class ExecDriver(Driver):
    """A child process answering one JSON line per request line."""

    def __init__(self, command: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.name = f"exec:{command}"
        self.timeout = timeout
        try:
            argv = shlex.split(command)
        except ValueError as err:
            raise DriverError("unavailable", f"cannot parse command {command!r}: {err}") from None
        if not argv:
            raise DriverError("unavailable", "exec: needs a command")
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the child)
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                text=True,
                bufsize=1,
                start_new_session=True,
            )
        except OSError as err:
            self._stderr.close()
            raise DriverError("unavailable", f"cannot run {argv[0]!r}: {err}") from None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._next_id = 0
        self._broken: DriverError | None = None

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)  # end of file: the child closed its output or exited

    def _stderr_tail(self) -> str:
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace").strip()
        return f"; stderr: {text[-300:]}" if text else ""

    def _fail(self, verdict: str, message: str) -> DriverError:
        self._broken = DriverError(verdict, message + self._stderr_tail())
        self.close()
        return self._broken

    def request(self, op: dict[str, Any]) -> dict[str, Any]:
        """Send one request line and wait (up to the timeout) for its answer line."""
        if self._broken is not None:
            raise self._broken
        self._next_id += 1
        ident = self._next_id
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps({**op, "id": ident}) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._fail("crashed", f"the process exited (code {self.proc.poll()})") from None
        try:
            line = self._lines.get(timeout=self.timeout)
        except queue.Empty:
            raise self._fail(
                "timeout", f"no answer to {op.get('op')!r} within {self.timeout:g}s"
            ) from None
        if line is None:
            self.proc.wait(timeout=5)
            raise self._fail(
                "crashed",
                f"the process exited (code {self.proc.returncode}) "
                f"instead of answering {op.get('op')!r}",
            )
        try:
            answer = json.loads(line)
        except json.JSONDecodeError:
            raise self._fail("garbage", f"not JSON: {line.strip()[:200]!r}") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
            raise self._fail("garbage", f"not an answer object with 'ok': {line.strip()[:200]!r}")
        if answer.pop("id", ident) != ident:
            raise self._fail(
                "out_of_order",
                f"request {ident} ({op.get('op')!r}) was answered "
                f"with another request's id: {line.strip()[:200]!r}",
            )
        return answer

    def close(self) -> None:
        """Close stdin, give the child a moment, then kill its whole process group."""
        proc = getattr(self, "proc", None)
        if proc is None or proc.poll() is not None:
            self._close_files()
            return
        try:
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, 9)
            proc.wait(timeout=5)
        self._close_files()

    def _close_files(self) -> None:
        proc = getattr(self, "proc", None)
        if proc is not None and proc.stdout:
            proc.stdout.close()
        if not self._stderr.closed:
            self._stderr.close()
