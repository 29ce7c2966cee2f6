"""`python:MODULE:CLASS` — an implementation in this process, called through its `handle`."""

from __future__ import annotations

import importlib
import json
import os
import sys
from typing import Any

from .base import Driver, DriverError

# what an implementation's own code may raise, caught as its failure: everything but a Ctrl-C
# (KeyboardInterrupt, the user's: it stops the run), SystemExit and GeneratorExit included
RAISED = (Exception, SystemExit, GeneratorExit)


class PythonDriver(Driver):
    """An object with `handle(op) -> answer`. Requests and answers cross as JSON text, so
    nothing is shared, unless `isolate` is off (the harness's own specification engine)."""

    def __init__(self, module: str, cls: str, isolate: bool = True) -> None:
        self.name = f"python:{module}:{cls}"
        self.isolate = isolate
        if os.getcwd() not in sys.path:  # MODULE may live in the current directory
            sys.path.append(os.getcwd())
        try:
            factory = getattr(importlib.import_module(module), cls)
        except Exception as err:  # ImportError, AttributeError, or the module's own failure
            raise DriverError("unavailable", f"cannot load {module}:{cls}: {err}") from None
        try:
            self.impl = factory()
        except Exception as err:  # e.g. a real engine whose programs are not installed
            raise DriverError("unavailable", f"{module}:{cls}: {err}") from None

    def request(self, op: dict[str, Any]) -> dict[str, Any]:
        """Call the implementation with a private copy of the request, as a wire would."""
        try:
            answer = self.impl.handle(json.loads(json.dumps(op)) if self.isolate else op)
        except RAISED as err:  # an implementation bug is a verdict
            raise DriverError("crashed", f"{type(err).__name__}: {err}") from err
        try:
            if not isinstance(answer, dict) or not isinstance(dict.get(answer, "ok"), bool):
                raise ValueError(f"answer is not an object with 'ok': {answer!r:.200}")
            if not self.isolate:  # the harness's own engine
                return answer
            # a plain copy, made by JSON as a wire would: no object of the implementation's
            # (a dict subclass whose methods raise, say) reaches the harness
            plain = json.loads(json.dumps(answer))
        except RAISED as err:  # whatever the answer's own methods raise
            raise DriverError(
                "garbage", f"answer is not JSON: {type(err).__name__}: {err}"
            ) from None
        return plain

    def close(self) -> None:
        """Let the implementation release its processes and files, if it holds any."""
        closer = getattr(self.impl, "close", None)
        if callable(closer):
            try:
                closer()
            except RAISED as err:  # a failing close is reported, never a traceback
                raise DriverError("crashed", f"close: {type(err).__name__}: {err}") from err
