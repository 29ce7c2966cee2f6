"""Trace files: load and check them, compare answers with their expectations, replay them."""

from __future__ import annotations

from .format import FORMAT, Trace, TraceError, TraceOp, load_trace, parse_trace
from .match import mismatch
from .replay import Step, VolumeTracker, replay, reset_request

__all__ = [
    "FORMAT",
    "Step",
    "Trace",
    "TraceError",
    "TraceOp",
    "VolumeTracker",
    "load_trace",
    "mismatch",
    "parse_trace",
    "replay",
    "reset_request",
]
