"""What the harness knows of an implementation: it answers operations of the vocabulary."""

from __future__ import annotations

from typing import Any

# how an implementation can fail to be driven (every one a named verdict, docs/harness.md)
DRIVER_VERDICTS = ("crashed", "timeout", "garbage", "out_of_order", "unavailable")


class DriverError(Exception):
    """The implementation cannot be talked to: it crashed, hung, or answered garbage."""

    def __init__(self, verdict: str, message: str) -> None:
        super().__init__(message)
        self.verdict = verdict  # one of DRIVER_VERDICTS
        self.message = message

    def __str__(self) -> str:
        return self.message


class Driver:
    """One implementation under test, spoken to one operation at a time."""

    name = "driver"

    def request(self, op: dict[str, Any]) -> dict[str, Any]:
        """Send one operation and return its answer."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the implementation and everything it started."""

    def __enter__(self) -> Driver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
