"""What an in-process implementation must leave as it found it: the harness's own process state.

A `python:` implementation runs inside the harness's process, so a call of its can break what
the harness needs to give its verdict. Probes written outside this repository found three ways
(stop 30): closing `sys.stdout` ended the run with a traceback and no verdict; changing the
working directory went unnoticed (and moves every relative path the harness writes to); an
exception in a thread the implementation started printed a traceback under a `conforms`.

So every call is bracketed (`Guard.before`, `Guard.after`): what it closed, replaced or moved is
put back, and it is a `crashed` verdict — a library that closes its host's standard output or
moves its working directory would break any host program. Uncaught exceptions of threads are
caught by a `threading.excepthook` installed while a guard is open and are the implementation's
too (the harness's own threads catch everything they raise), said at its next call.

What no guard can undo, in-process: `os._exit`, a crash of the interpreter, a signal that kills
the process. For code one does not trust, `exec:` runs it in a process of its own.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

STREAMS = ("stdin", "stdout", "stderr")


class Guard:
    """The harness's process state around one implementation's calls."""

    def __init__(self) -> None:
        self._saved: dict[str, Any] = {}
        self.thread_errors: list[str] = []
        _open(self)

    def before(self) -> None:
        """What the call is handed: the streams (and whether they are open) and the directory."""
        self._saved = {name: getattr(sys, name) for name in STREAMS}
        self._saved["cwd"] = _cwd()

    def after(self) -> str | None:
        """Put back whatever the call changed; what it changed, or None."""
        changed = []
        for name in STREAMS:
            mine = self._saved.get(name)
            if getattr(sys, name) is not mine:
                setattr(sys, name, mine)
                changed.append(f"replaced sys.{name}")
            if mine is not None and getattr(mine, "closed", False):
                setattr(sys, name, _reopened(name, mine))
                changed.append(f"closed sys.{name}")
        cwd = self._saved.get("cwd")
        if cwd is not None and _cwd() != cwd:
            os.chdir(cwd)
            changed.append(f"changed the working directory (from {cwd})")
        if self.thread_errors:
            changed.append("a thread it started raised " + "; ".join(self.thread_errors))
            self.thread_errors.clear()
        return "; ".join(changed) or None

    def close(self) -> None:
        """No more calls to guard; the last guard gives the thread hook back."""
        _close(self)


# one threading.excepthook for every open guard (threading has one hook per process)
_GUARDS: list[Guard] = []
_PREVIOUS: list[Any] = []
_LOCK = threading.Lock()


def _on_thread_error(args: threading.ExceptHookArgs) -> None:
    """An uncaught exception in a thread: kept for each open guard's next call, not printed."""
    if args.exc_type is SystemExit:
        return  # a thread's normal way out
    name = args.thread.name if args.thread is not None else "?"
    with _LOCK:
        for guard in _GUARDS:
            guard.thread_errors.append(f"{name}: {args.exc_type.__name__}: {args.exc_value}")


def _open(guard: Guard) -> None:
    with _LOCK:
        if not _GUARDS:
            _PREVIOUS[:] = [threading.excepthook]
            threading.excepthook = _on_thread_error
        _GUARDS.append(guard)


def _close(guard: Guard) -> None:
    with _LOCK:
        if guard in _GUARDS:
            _GUARDS.remove(guard)
            if not _GUARDS and threading.excepthook is _on_thread_error:
                threading.excepthook = _PREVIOUS[0]


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:  # the directory was removed under us
        return None


def _reopened(name: str, closed: Any) -> Any:
    """A stream like the closed one, on a copy of its file descriptor (the object itself
    cannot be reopened); if the descriptor is gone too, on the null device."""
    fd = {"stdin": 0, "stdout": 1, "stderr": 2}[name]
    mode = "r" if name == "stdin" else "w"
    encoding = getattr(closed, "encoding", None) or "utf-8"
    try:
        return open(os.dup(fd), mode, encoding=encoding, errors="replace", buffering=1)
    except OSError:
        return open(os.devnull, mode, encoding=encoding)
