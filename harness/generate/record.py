"""What a campaign keeps across the sequences Hypothesis runs: drivers, log, coverage.

The state machine (`machine.py`) writes into one `Record`; the campaign reads the log of the
last sequence, coverage and the driver's fate from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.errors import Nonconformance
from ..core.hello import Hello
from ..core.session import Entry, Session
from ..drivers import Driver, DriverError
from .coverage import Coverage
from .domain import Domain


@dataclass
class Options:
    """How sequences are checked."""

    step_check: bool = True
    observe_every_step: bool = False
    policies: tuple[str, ...] = ("per-type",)  # the policies sequences draw from


@dataclass
class Record:
    """What a campaign keeps across Hypothesis examples."""

    open_sut: Callable[[], Driver]
    open_spec: Callable[[], Driver]
    hello: Hello
    options: Options
    sut: Driver | None = None
    spec: Driver | None = None
    session: Session | None = None
    log: list[Entry] = field(default_factory=list)
    history: list[Entry] = field(default_factory=list)  # earlier sequences on this instance
    grain_size: int = 2
    policy: str = "per-type"
    coverage: Coverage = field(default_factory=Coverage)
    domain: Domain = field(init=False)
    steps: int = 0
    sequences: int = 0
    broken: DriverError | None = None
    failing: bool = False  # a nonconformance was met: the sequences since are shrinking
    found: Nonconformance | None = None  # the first nonconformance met
    stop_at_failure: bool = True  # FailureFound at the next sequence (off for HypoFuzz)
    on_example: Callable[[Record], None] | None = None  # progress reporting
    close_errors: list[str] = field(default_factory=list)  # closes that raised or hung
    pursuing: str | None = None  # the mandatory goal a goal round pursues (every family on)

    def __post_init__(self) -> None:
        self.domain = Domain(self.hello)

    def new_session(self, grain_size: int, policy: str) -> Session:
        """A fresh sequence: both sides reset; the implementation reopened if it broke."""
        if self.sut is None or self.broken is not None:
            if self.sut is not None:
                self.close_sut()
            self.sut = self.open_sut()
            self.broken = None
            self.history = []
        elif self.session is not None:
            self.history.extend(self.session.log)
        if self.spec is None:
            self.spec = self.open_spec()
        self.grain_size, self.policy = grain_size, policy
        self.session = Session(
            self.sut,
            self.spec,
            self.hello,
            grain_size,
            policy,
            step_check=self.options.step_check,
            observe_every_step=self.options.observe_every_step,
            on_step=self.coverage.step,
        )
        self.log = self.session.log
        return self.session

    def transcript(self) -> list[Entry]:
        """Every request this implementation instance was sent, in order."""
        return self.history + (self.session.log if self.session is not None else [])

    def close_sut(self) -> None:
        """Release the implementation. A failing close is not a verdict of its own (the
        verdict is about the answers), but it is kept, and the report says it."""
        if self.sut is not None:
            try:
                self.sut.close()
            except DriverError as err:
                self.close_errors.append(f"{err.verdict}: {err.message}")
            self.sut = None

    def close(self) -> None:
        """Release both sides."""
        self.close_sut()
        if self.spec is not None:
            self.spec.close()
            self.spec = None


class StopRun(KeyboardInterrupt):
    """Ends Hypothesis's run at once. A KeyboardInterrupt because that is the one exception
    Hypothesis lets through untouched: it neither records the aborted test case in its tree
    (which would call the next run of the same choices inconsistent) nor saves it to the
    example database. The campaign catches every subclass before a real Ctrl-C."""


class DriverBroke(StopRun):
    """The implementation crashed, hung or answered garbage: the campaign stops at once
    (not a test failure for Hypothesis to shrink)."""

    def __init__(self, error: DriverError, log: list[Entry]) -> None:
        super().__init__(str(error))
        self.error = error
        self.log = log


class FailureFound(StopRun):
    """Raised at the start of the sequence after the one that met a nonconformance: the
    campaign stops Hypothesis there and shrinks the failure itself. Left running, Hypothesis
    would replay it and, in its targeting phase, hill-climb on failing sequences for minutes.
    (Hypothesis has already saved the failing example to the database by then.)"""


__all__ = ["DriverBroke", "FailureFound", "Options", "Record", "StopRun"]
