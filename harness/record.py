"""What a campaign keeps across the examples Hypothesis runs: the driver, the log, coverage.

The state machine (`generate.py`) writes into one `Record`; the campaign (`campaign.py`) reads
the verdict's log, coverage and the driver's fate from it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .drivers import Driver, DriverError
from .session import Capabilities


@dataclass
class Record:
    """What a campaign keeps across Hypothesis examples: the log of the run that failed last,
    coverage, and the driver (reopened after it broke)."""

    open_driver: Callable[[], Driver]
    caps: Capabilities
    policy: str
    step_check: bool
    driver: Driver | None = None
    log: list[dict[str, Any]] = field(default_factory=list)
    grain_size: int = 2
    fired: Counter[str] = field(default_factory=Counter)
    deepest: int = 0
    steps: int = 0
    broken: DriverError | None = None
    broken_log: list[dict[str, Any]] = field(default_factory=list)
    on_example: Callable[[Record], None] | None = None  # progress reporting

    def fresh_driver(self) -> Driver:
        """The driver, reopened if a previous example broke it."""
        if self.driver is None or self.broken is not None:
            if self.driver is not None:
                self.driver.close()
            self.driver = self.open_driver()
            self.broken = None
        return self.driver


class DriverBroke(BaseException):
    """The implementation crashed, hung or answered garbage: the campaign stops at once."""

    def __init__(self, error: DriverError) -> None:
        super().__init__(str(error))
        self.error = error
