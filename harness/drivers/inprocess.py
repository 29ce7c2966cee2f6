"""`python:MODULE:CLASS` — an implementation in this process, called through its `handle`."""

from __future__ import annotations

import importlib
import json
from typing import Any

from .base import Driver, DriverError


class PythonDriver(Driver):
    """An object with `handle(op) -> answer`; requests and answers cross as JSON text."""

    def __init__(self, module: str, cls: str) -> None:
        self.name = f"python:{module}:{cls}"
        try:
            factory = getattr(importlib.import_module(module), cls)
        except (ImportError, AttributeError) as err:
            raise DriverError("unavailable", f"cannot load {module}:{cls}: {err}") from None
        try:
            self.impl = factory()
        except Exception as err:  # e.g. a real engine whose programs are not installed
            raise DriverError("unavailable", f"{module}:{cls}: {err}") from None

    def request(self, op: dict[str, Any]) -> dict[str, Any]:
        """Call the implementation with a private copy of the request, as a wire would."""
        try:
            answer = self.impl.handle(json.loads(json.dumps(op)))
        except Exception as err:  # an implementation bug is a verdict, not a harness crash
            raise DriverError("crashed", f"{type(err).__name__}: {err}") from err
        if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
            raise DriverError("garbage", f"answer is not an object with 'ok': {answer!r:.200}")
        return json.loads(json.dumps(answer))

    def close(self) -> None:
        """Let the implementation release its processes and files, if it holds any."""
        closer = getattr(self.impl, "close", None)
        if callable(closer):
            closer()
