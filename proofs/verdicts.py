"""What a proof obligation is and what checking it says: claims, obligations, outcomes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from model.rules import Spec
from model.state import State

from .shapes import RulesRaised, Situation
from .steps import Step

TIMEOUT_MS = 20_000  # per Z3 query


def rules_fail(err: Exception) -> str:
    """What a failure says when the rules raise instead of answering (a wrong rule must fail
    what it is checked against, named, not stop the suite)."""
    if "Recursion" in repr(err):
        return "the rules never finish this step: their copies recurse without end"
    if isinstance(err, RulesRaised):
        return f"the rules raise while the covered shapes are found, on {err}"
    return f"the rules raise {err!r} on this step"


@dataclass
class Failure:
    """Where an obligation failed: the situation, the step and what Z3 found."""

    situation: Situation | None
    step: Step | None
    detail: str


@dataclass
class Outcome:
    """The verdict of one obligation."""

    name: str
    verdict: str  # proved | failed | unknown
    seconds: float
    queries: int
    failure: Failure | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Query:
    """One claim: assumptions and goal over a pre-state, a step and its post-state."""

    assumptions: Any
    goal: Any


# A claim builder: (spec, situation, step, pre, post, g, x) -> Query, or None when it does not
# apply to that step.
Claim = Callable[[Spec, Situation, Step, State, State, Any, Any], Query | None]


@dataclass(frozen=True)
class StepObligation:
    """An obligation checked at every covered shape for the step kinds it concerns."""

    name: str
    kinds: frozenset[str]
    claim: Claim
    summary: str
    over: str = "shapes"  # which situations: "shapes" (the covered ones) or "groups"
