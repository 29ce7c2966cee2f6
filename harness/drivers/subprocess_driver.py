"""`exec:COMMAND` — an implementation in another process, speaking JSON lines on stdin/stdout.

The command is split like a shell would (shlex) but run without one, in a process group of its
own. Each request gets an `"id"` (1, 2, ...) and its answer must echo it. Whatever the child
does, the harness gets a named verdict, within the timeout plus a bounded margin, in bounded
memory, and the child's whole process group is reaped:

- it exits, or closes its standard output (even if it keeps running): `crashed` — also when
  a process it started still holds that output open (the wait for an answer looks at the
  child every `POLL` seconds);
- it does not answer within the timeout: `timeout`;
- it prints something that is not a JSON object with a boolean `ok`, or a line longer than
  `max_line` bytes (the rest of that line is read and dropped, never kept): `garbage`;
- it answers with another request's id, or none: `out_of_order`.

Standard error is drained by a thread that keeps only its last `STDERR_TAIL` bytes, quoted in
verdicts, so a driver that floods it costs neither memory nor disk.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shlex
import signal
import subprocess
import threading
import time
from typing import IO, Any

from .base import Driver, DriverError

DEFAULT_TIMEOUT = 10.0
MAX_LINE = 64 << 20  # bytes in one answer line
STDERR_TAIL = 4096  # bytes of standard error kept for verdicts
CHUNK = 1 << 16
GRACE = 2.0  # seconds a child gets to exit after its input is closed
POLL = 1.0  # seconds between looks at whether the child still runs, while waiting


def _not_json(token: str) -> Any:
    """`NaN` and `Infinity` are Python's extensions, not JSON (RFC 8259): an answer using them
    is garbage, not a float the checks would compare."""
    raise ValueError(f"{token} is not JSON")


class ExecDriver(Driver):
    """A child process answering one JSON line per request line."""

    def __init__(
        self, command: str, timeout: float = DEFAULT_TIMEOUT, max_line: int = MAX_LINE
    ) -> None:
        self.name = f"exec:{command}"
        self.timeout = timeout
        self.max_line = max_line
        self._broken: DriverError | None = None
        self._next_id = 0
        self._answers: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._tail = bytearray()
        self._tail_lock = threading.Lock()
        try:
            argv = shlex.split(command)
        except ValueError as err:
            raise DriverError("unavailable", f"cannot parse command {command!r}: {err}") from None
        if not argv:
            raise DriverError("unavailable", "exec: needs a command")
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                bufsize=0,
                start_new_session=True,
            )
        except OSError as err:
            raise DriverError("unavailable", f"cannot run {argv[0]!r}: {err}") from None
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._threads = [
            threading.Thread(target=self._read_answers, args=(self.proc.stdout,), daemon=True),
            threading.Thread(target=self._read_stderr, args=(self.proc.stderr,), daemon=True),
        ]
        for t in self._threads:
            t.start()

    # -- the child's output, read by threads ---------------------------------------------
    def _read_answers(self, stream: IO[bytes]) -> None:
        """Split standard output into lines; a line over `max_line` is dropped as it arrives."""
        line = bytearray()
        dropping = 0  # bytes of an overlong line read so far
        while True:
            try:
                chunk = stream.read(CHUNK)
            except (OSError, ValueError):
                chunk = b""
            if not chunk:
                break
            while chunk:
                cut = chunk.find(b"\n")
                piece, rest = (chunk, b"") if cut < 0 else (chunk[:cut], chunk[cut + 1 :])
                if dropping:
                    dropping += len(piece)
                elif len(line) + len(piece) > self.max_line:  # said at once, then dropped
                    dropping, line = len(line) + len(piece), bytearray()
                    self._answers.put(("toolong", b""))
                else:
                    line += piece
                if cut >= 0:  # the end of a line
                    if not dropping:
                        self._answers.put(("line", bytes(line)))
                    line, dropping = bytearray(), 0
                chunk = rest
        self._answers.put(("eof", b""))

    def _read_stderr(self, stream: IO[bytes]) -> None:
        """Drain standard error, keeping only its tail."""
        while True:
            try:
                chunk = stream.read(CHUNK)
            except (OSError, ValueError):
                return
            if not chunk:
                return
            with self._tail_lock:
                self._tail += chunk
                del self._tail[:-STDERR_TAIL]

    def stderr_tail(self) -> str:
        """The last bytes the child wrote to standard error."""
        with self._tail_lock:
            text = bytes(self._tail).decode(errors="replace").strip()
        return text[-300:]

    # -- requests ----------------------------------------------------------------------------
    def _fail(self, verdict: str, message: str) -> DriverError:
        self.close()  # reap first, so the stderr tail is complete
        tail = self.stderr_tail()
        self._broken = DriverError(verdict, message + (f"; stderr: {tail}" if tail else ""))
        return self._broken

    def request(self, op: dict[str, Any]) -> dict[str, Any]:
        """Send one request line and wait (up to the timeout) for its answer line."""
        if self._broken is not None:
            raise self._broken
        self._next_id += 1
        ident = self._next_id
        what = repr(op.get("op"))
        try:
            line = (json.dumps({**op, "id": ident}) + "\n").encode()
        except (TypeError, ValueError) as err:  # a request the harness cannot even encode
            raise DriverError("unavailable", f"cannot encode {what}: {err}") from None
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(line)
            self.proc.stdin.flush()
        except (OSError, ValueError):
            raise self._fail("crashed", f"the process exited before {what} was sent") from None
        kind, raw = self._answer(what)
        if kind == "eof":
            raise self._fail("crashed", self._why_eof(what))
        if kind == "toolong":
            raise self._fail(
                "garbage", f"the answer to {what} is a line longer than {self.max_line} bytes"
            )
        return self._decode(raw, ident, what)

    def _answer(self, what: str) -> tuple[str, bytes]:
        """The next line the reader thread saw (or its end), waiting up to the timeout; a
        child that exited is `crashed` at once, even while a process it started keeps its
        standard output open (no end of file ever comes then)."""
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._fail("timeout", f"no answer to {what} within {self.timeout:g}s")
            try:
                return self._answers.get(timeout=min(left, POLL))
            except queue.Empty:
                code = self.proc.poll()
            if code is not None:
                try:  # a line it wrote just before exiting is still its answer
                    return self._answers.get(timeout=POLL)
                except queue.Empty:
                    raise self._fail(
                        "crashed",
                        f"the process exited (code {code}) instead of answering {what}; a "
                        "process it started still holds its standard output",
                    ) from None

    def _why_eof(self, what: str) -> str:
        try:
            code = self.proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            return f"the process closed its standard output instead of answering {what}"
        return f"the process exited (code {code}) instead of answering {what}"

    def _decode(self, raw: bytes, ident: int, what: str) -> dict[str, Any]:
        shown = raw[:200].decode(errors="replace")
        try:
            answer = json.loads(raw, parse_constant=_not_json)
        except (ValueError, RecursionError):
            raise self._fail("garbage", f"the answer to {what} is not JSON: {shown!r}") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
            raise self._fail(
                "garbage", f"the answer to {what} is not an object with a boolean 'ok': {shown!r}"
            )
        got = answer.pop("id", None)
        if isinstance(got, bool) or got != ident:  # `true` is no id, though Python says 1 == True
            raise self._fail(
                "out_of_order",
                f"request {ident} ({what}) was answered without its id or with another "
                f"request's: {shown!r}",
            )
        return answer

    # -- the end -------------------------------------------------------------------------------
    def close(self) -> None:
        """Close stdin, give the child a moment, then kill its whole process group and reap it.
        Never raises; idempotent."""
        proc = getattr(self, "proc", None)
        if proc is None:
            return
        with contextlib.suppress(OSError, ValueError):
            if proc.stdin and not proc.stdin.closed:
                proc.stdin.close()
        if proc.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=GRACE)
        with contextlib.suppress(OSError):  # the group may outlive its leader
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=GRACE)
        for t in getattr(self, "_threads", []):
            t.join(timeout=GRACE)
        for stream in (proc.stdout, proc.stderr):
            with contextlib.suppress(OSError, ValueError):
                if stream:
                    stream.close()
