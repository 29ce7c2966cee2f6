"""`python:MODULE:CLASS` — an implementation in this process, called through its `handle`."""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from .base import Driver, DriverError
from .calls import Calls, Overran, Raised
from .guard import Guard

# seconds an in-process call may take before it is a `timeout`: more than an exec driver's
# default, since the real engines make filesystems and start daemons inside their calls
DEFAULT_TIMEOUT = 60.0


class PythonDriver(Driver):
    """An object with `handle(op) -> answer`. Requests and answers cross as JSON text, so
    nothing is shared, and every call of the implementation's — import, constructor, handle,
    close — is timed (`harness/drivers/calls.py`) and guarded (what it does to the harness's
    streams, directory and threads: `harness/drivers/guard.py`), unless `isolate` is off (the
    harness's own specification engine: called directly, answers as they are)."""

    def __init__(
        self, module: str, cls: str, isolate: bool = True, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.name = f"python:{module}:{cls}"
        self.isolate = isolate
        self.timeout = timeout
        self._calls = Calls(self.name) if isolate else None
        # the harness's streams, directory and thread hook, around each call (guard.py)
        self._guard = Guard() if isolate else None
        if os.getcwd() not in sys.path:  # MODULE may live in the current directory
            sys.path.append(os.getcwd())
        # everything of the implementation's is timed: the module's own code at import, its
        # class's constructor, even looking up its methods
        try:
            factory = self._call("loading the module", _load, module, cls)
        except DriverError as err:
            raise self._unavailable(f"cannot load {module}:{cls}", err) from None
        try:
            self.impl = self._call("making the implementation", factory)
            if not self._call("looking up handle", _has_handle, self.impl):
                raise DriverError("unavailable", "it has no handle(op) method")
        except DriverError as err:  # e.g. a real engine whose programs are not installed
            raise self._unavailable(f"{module}:{cls}", err) from None

    def _call(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(*args)`, timed when isolated: what it raises is a `crashed` verdict, a call
        that does not return within the timeout a `timeout`."""
        if self._calls is None or self._guard is None:
            return fn(*args)
        self._guard.before()
        try:
            value = self._calls.run(what, self.timeout, fn, *args)
        except Raised as err:  # an implementation bug is a verdict
            self._guard.after()
            raise DriverError("crashed", str(err)) from err.error
        except Overran as err:
            self._guard.after()
            raise DriverError("timeout", str(err)) from None
        except BaseException:  # the user's Ctrl-C: what the call changed is put back too
            self._guard.after()
            raise
        changed = self._guard.after()
        if changed:  # put back, and a verdict (harness/drivers/guard.py)
            raise DriverError("crashed", f"{what}: the implementation {changed}")
        return value

    def _unavailable(self, what: str, err: BaseException) -> DriverError:
        """A driver that could not be made: its calls end, the verdict says why."""
        self._stop()
        hung = isinstance(err, DriverError) and err.verdict == "timeout"
        return DriverError("timeout" if hung else "unavailable", f"{what}: {err}")

    def request(self, op: dict[str, Any]) -> dict[str, Any]:
        """Call the implementation with a private copy of the request, as a wire would."""
        if not self.isolate:  # the harness's own engine
            answer = self.impl.handle(op)
            if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
                raise DriverError("garbage", f"answer is not an object with 'ok': {answer!r:.200}")
            return answer
        private = json.loads(json.dumps(op))
        what = f"handle({op.get('op')!r})" if isinstance(op, dict) else "handle"
        answer = self._call(what, _handle, self.impl, private)
        try:
            # a plain copy, made by JSON as a wire would, timed (the answer's own methods are
            # its code): nothing of its objects (a dict subclass whose methods raise, say)
            # reaches the harness
            plain = self._call("reading the answer", _plain, answer)
        except DriverError as err:
            if err.verdict == "crashed":  # whatever the answer's own methods raise
                raise DriverError("garbage", f"answer is not JSON: {err.message}") from None
            raise
        if not isinstance(plain, dict) or not isinstance(plain.get("ok"), bool):
            raise DriverError("garbage", f"answer is not an object with 'ok': {plain!r:.200}")
        return plain

    def close(self) -> None:
        """Let the implementation release its processes and files, if it holds any (a close
        that raises or overruns is reported, never a traceback)."""
        try:
            if self._calls is not None and self._calls.stuck is not None:
                # a call overran: close is still called (it may release what the
                # implementation holds), with calls of its own, still timed
                stuck, self._calls = self._calls, Calls(self.name + " (closing)")
                stuck.stop()
            self._call("close", _close, self.impl)
        except DriverError as err:  # a failing close is reported, never a traceback
            raise DriverError(err.verdict, f"close: {err.message}") from None
        finally:
            self._stop()

    def _stop(self) -> None:
        if self._calls is not None:
            self._calls.stop()
        if self._guard is not None:
            self._guard.close()


def _load(module: str, cls: str) -> Any:
    """The implementation's class (or any factory) from its module."""
    return getattr(importlib.import_module(module), cls)


def _has_handle(impl: Any) -> bool:
    return callable(getattr(impl, "handle", None))


def _handle(impl: Any, op: dict[str, Any]) -> Any:
    return impl.handle(op)


def _close(impl: Any) -> None:
    """Call the implementation's close, if it has one."""
    closer = getattr(impl, "close", None)
    if callable(closer):
        closer()


def _plain(answer: Any) -> Any:
    """The answer as JSON would carry it (`NaN` and infinities are not JSON)."""
    return json.loads(json.dumps(answer, allow_nan=False))
