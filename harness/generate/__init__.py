"""Generation: Hypothesis sequences over the whole vocabulary, steered but never trusted."""

from __future__ import annotations

from hypothesis.stateful import RuleBasedStateMachine

from .record import DriverBroke, FailureFound, Options, Record, StopRun
from .rules_checks import CheckRules
from .rules_data import DataRules
from .rules_scenes import SceneRules


def machine_for(record: Record) -> type[RuleBasedStateMachine]:
    """A state machine class bound to one implementation."""

    class CascadeMachine(DataRules, SceneRules, CheckRules):
        """Random operation sequences against one implementation, checked in lockstep."""

    CascadeMachine.record = record
    return CascadeMachine


__all__ = ["DriverBroke", "FailureFound", "Options", "Record", "StopRun", "machine_for"]
