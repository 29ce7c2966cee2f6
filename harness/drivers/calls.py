"""Calls into an in-process implementation, each waited for at most a timeout.

An implementation loaded into the harness's process runs its code on a thread of its own (one
per driver, for the driver's whole life, so whatever it starts belongs to one thread: children
that die with their parent thread, such as qemu-storage-daemon's, stay up). The harness waits
for each call at most `timeout` seconds: a call that never returns — a sleep, an endless loop —
costs a `timeout` verdict, not the run. Such a thread cannot be stopped from outside; it is a
daemon, left to itself, and the driver refuses further calls.

Whatever the implementation raises on its thread is its own (a Ctrl-C reaches only the main
thread), so every exception, `KeyboardInterrupt` and `SystemExit` included, comes back to the
caller as a value to turn into a verdict.
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any


class Overran(Exception):
    """A call did not return within its timeout; the thread is left running it."""


class Raised(Exception):
    """The implementation's call raised `error` (any BaseException) on its thread."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.error = error


_Job = tuple[Callable[..., Any], tuple[Any, ...]] | None


def _serve(jobs: queue.SimpleQueue[_Job], results: queue.SimpleQueue[tuple[bool, Any]]) -> None:
    """The implementation's thread: run each job, hand back its value or what it raised."""
    while (job := jobs.get()) is not None:
        fn, args = job
        try:
            results.put((True, fn(*args)))
        except BaseException as err:
            results.put((False, err))
        del job, fn, args  # hold nothing of the implementation's between calls


class Calls:
    """One daemon thread that runs an implementation's calls in order."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._results: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()
        self.stuck: str | None = None  # what overran, once one call has
        threading.Thread(
            target=_serve, args=(self._jobs, self._results), name=name, daemon=True
        ).start()
        # a driver dropped without close still ends its thread
        weakref.finalize(self, self._jobs.put, None)

    def run(self, what: str, timeout: float, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(*args)` on the thread: its value; `Raised` if it raised, `Overran` if it did
        not return within `timeout` seconds (and for every call after that one)."""
        if self.stuck is not None:
            raise Overran(f"{self.stuck} never returned; the implementation takes no more calls")
        self._jobs.put((fn, args))
        try:
            ok, value = self._results.get(timeout=timeout)
        except queue.Empty:
            self.stuck = what
            raise Overran(f"{what} did not return within {timeout:g} s") from None
        if ok:
            return value
        raise Raised(value)

    def stop(self) -> None:
        """End the thread once it is idle (a stuck one is left to itself)."""
        self._jobs.put(None)
