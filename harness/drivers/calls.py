"""Calls into an in-process implementation, each waited for at most a timeout.

A call that never returns — a sleep, an endless loop — must cost a `timeout` verdict, not the
run. On the main thread (where `cascadecheck` runs its campaigns) a call runs right there,
under a timer: `SIGALRM` fires when the timeout is up and raises `_Alarm` inside the
implementation's code, again every second until the call gives up (an implementation that
catches it has still overrun). Blocking system calls are interrupted too (PEP 475 retries them
only when the handler returns). What no signal interrupts is a loop inside a C extension.
Elsewhere (a campaign run on another thread) signals cannot be used, and each call runs on a
daemon thread of the driver's own, waited for at most the timeout; a stuck thread is left to
itself. The thread costs a hand-over per call: `benchmarks/in_process.py` measured the main
thread's way at 0.94 of an untimed call and the thread's at 0.60 (docs/performance.md).

Whatever the implementation raises is its own, `SystemExit` and `KeyboardInterrupt` included:
it comes back as `Raised`. The user's Ctrl-C is told apart — on the main thread by a SIGINT
handler that counts it (and hands it to the handler it replaced), on the implementation's
thread because signals never reach it — and stops the run as ever.
"""

from __future__ import annotations

import queue
import signal
import threading
import weakref
from collections.abc import Callable
from types import FrameType
from typing import Any

AGAIN = 1.0  # seconds between alarms once a call has overrun


class Overran(Exception):
    """A call did not return within its timeout; the driver takes no more calls."""


class Raised(Exception):
    """The implementation's call raised `error` (any BaseException)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.error = error


class _Alarm(BaseException):
    """Raised inside the implementation's code when its time is up (a BaseException, so an
    implementation's `except Exception` does not swallow it)."""


class _Signals:
    """The handlers the main thread's timed calls need, installed once and kept (each call
    checks they still are; re-installing costs more than the rest of a call's timing):
    SIGALRM raises `_Alarm` while a call is running and does nothing otherwise; SIGINT counts
    the user's Ctrl-C and hands it to the handler it replaced."""

    def __init__(self) -> None:
        self.running: dict[str, bool] | None = None  # the timed call's state, while one runs
        self.presses = 0
        self.previous: Any = signal.default_int_handler

    def on_alarm(self, signum: int, frame: FrameType | None) -> None:
        if self.running is not None and self.running["calling"]:
            self.running["fired"] = True
            raise _Alarm

    def on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        if self.previous == signal.SIG_IGN:  # ignored before: still ignored
            return
        self.presses += 1
        if callable(self.previous):
            self.previous(signum, frame)
        raise KeyboardInterrupt

    def installed(self) -> _Signals:
        """Install (again) whichever handler someone else replaced."""
        if signal.getsignal(signal.SIGALRM) != self.on_alarm:
            signal.signal(signal.SIGALRM, self.on_alarm)
        current = signal.getsignal(signal.SIGINT)
        if current != self.on_interrupt:
            self.previous = current
            signal.signal(signal.SIGINT, self.on_interrupt)
        return self


_SIGNALS = _Signals()


class Calls:
    """Runs an implementation's calls, each for at most a timeout."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.stuck: str | None = None  # what overran, once one call has
        self._thread: _Thread | None = None

    def run(self, what: str, timeout: float, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(*args)`: its value; `Raised` if it raised, `Overran` if it did not return
        within `timeout` seconds (and for every call after that one)."""
        if self.stuck is not None:
            raise Overran(f"{self.stuck} never returned; the implementation takes no more calls")
        if threading.current_thread() is threading.main_thread():
            return self._here(what, timeout, fn, args)
        if self._thread is None:
            self._thread = _Thread(self.name)
        try:
            return self._thread.run(timeout, fn, args)
        except Overran:
            raise self._overran(what, timeout) from None

    def _overran(self, what: str, timeout: float) -> Overran:
        """The driver takes no more calls once one has overrun."""
        self.stuck = what
        return Overran(f"{what} did not return within {timeout:g} s")

    def _here(self, what: str, timeout: float, fn: Callable[..., Any], args: tuple) -> Any:
        """On the main thread, under SIGALRM."""
        signals = _SIGNALS.installed()
        state = {"calling": True, "fired": False}
        presses = signals.presses
        signals.running = state
        signal.setitimer(signal.ITIMER_REAL, timeout, AGAIN)
        try:
            try:
                value = fn(*args)
            finally:
                state["calling"] = False
        except _Alarm:
            pass  # below: fired
        except KeyboardInterrupt:
            if signals.presses != presses:
                raise  # the user's Ctrl-C: the run stops
            raise Raised(KeyboardInterrupt()) from None
        except BaseException as err:  # the implementation's, whatever it is
            if not state["fired"]:
                raise Raised(err) from err
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signals.running = None
        if state["fired"]:  # interrupted, or it caught the alarm and went on: overrun either way
            raise self._overran(what, timeout)
        return value

    def stop(self) -> None:
        """End the implementation's thread, if it has one, once idle."""
        if self._thread is not None:
            self._thread.stop()


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


class _Thread:
    """One daemon thread that runs an implementation's calls in order (off the main thread,
    where no signal can interrupt a call)."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._results: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()
        threading.Thread(
            target=_serve, args=(self._jobs, self._results), name=name, daemon=True
        ).start()
        weakref.finalize(self, self._jobs.put, None)  # dropped without stop: ends too

    def run(self, timeout: float, fn: Callable[..., Any], args: tuple) -> Any:
        self._jobs.put((fn, args))
        try:
            ok, value = self._results.get(timeout=timeout)
        except queue.Empty:
            raise Overran from None
        if ok:
            return value
        raise Raised(value)

    def stop(self) -> None:
        self._jobs.put(None)
