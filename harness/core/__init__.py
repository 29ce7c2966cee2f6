"""The checking core: the lockstep session, the oracle, the step check, declared limits."""

from __future__ import annotations

from .errors import KINDS, InternalError, Nonconformance, SpecDisagreement
from .hello import Hello, HelloError
from .session import Entry, Session

__all__ = [
    "KINDS",
    "Entry",
    "Hello",
    "HelloError",
    "InternalError",
    "Nonconformance",
    "Session",
    "SpecDisagreement",
]
