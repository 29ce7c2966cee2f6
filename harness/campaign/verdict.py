"""A campaign's outcome: the verdict, its exit code, what was reached, what was not verified."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# one table for every command (docs/harness.md, `cascadecheck --help`)
EXIT_CODES = {
    0: "conforms (check), every expect holds (replay), every obligation proved (prove)",
    1: "nonconformance found (check), an expect failed (replay), a proof failed (prove)",
    2: "usage error, unreadable input, unwritable output, or the implementation could not be "
    "driven (crashed, timeout, garbage, out_of_order, unavailable)",
    3: "inconclusive: nothing wrong found, but the campaign did not reach what the "
    "implementation declares (check)",
    4: "internal error: a bug in cascadecheck itself, never in the implementation (for "
    "example its specification engine and model disagree): please report it",
    130: "interrupted (Ctrl-C)",
}
STATUS_EXIT = {
    "conforms": 0,
    "nonconformance": 1,
    "driver_error": 2,
    "usage_error": 2,
    "inconclusive": 3,
    "interrupted": 130,
}


@dataclass
class Verdict:
    """The outcome of a campaign."""

    # conforms | nonconformance | inconclusive | driver_error | usage_error | interrupted;
    # `stopped` only for a worker that another worker's failure ended (never a campaign's)
    status: str
    driver: str
    budget: int = 0  # sequences asked for
    sequences: int = 0  # sequences run
    steps: int = 0
    seconds: float = 0.0
    seed: int | None = None
    database: str = ""
    kind: str = ""
    problem: str = ""
    explanation: str = ""
    trace: dict[str, Any] | None = None
    trace_path: str = ""
    found_by: str = ""  # campaign | corpus:<file>
    shrink: dict[str, Any] = field(default_factory=dict)  # lengths, seconds, fresh replay
    missing: list[str] = field(default_factory=list)  # mandatory goals not reached
    reached: list[str] = field(default_factory=list)
    goal_hits: dict[str, int] = field(default_factory=dict)  # how often each goal was met
    not_verified: dict[str, str] = field(default_factory=dict)
    deepest: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # declared limits that skipped ops
    by_rule: list[dict[str, Any]] = field(default_factory=list)
    domain: dict[str, list[str]] = field(default_factory=dict)
    domain_gaps: dict[str, list[str]] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    corpus: list[dict[str, Any]] = field(default_factory=list)
    rounds: int = 1  # Hypothesis runs (a soak run has several)
    gap_rounds: int = 0  # runs focused on a corner of the domain the others never drew
    gap_sequences: int = 0  # the sequences those runs took
    close_errors: list[str] = field(default_factory=list)  # the implementation's failed closes
    goal_rounds: int = 0  # runs pursuing a mandatory goal the others never reached
    goal_sequences: int = 0  # the sequences those runs took
    long_sequences: int = 0  # sequences of the long round (LONG_FACTOR times the steps)
    duration: float | None = None  # seconds asked for (a soak run), instead of a budget
    workers: list[dict[str, Any]] = field(default_factory=list)  # per worker, when several

    @property
    def exit_code(self) -> int:
        """The documented exit code of this verdict."""
        return STATUS_EXIT[self.status]

    def summary(self) -> dict[str, Any]:
        """For --json: everything but the trace itself."""
        out = {k: v for k, v in self.__dict__.items() if k != "trace"}
        out["exit_code"] = self.exit_code
        out["trace_ops"] = len(self.trace["ops"]) if self.trace else 0
        return out
