"""What a campaign does beyond the implementation (`Plan`), and how it is ended early."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis.database import ExampleDatabase

from ..generate import Record, StopRun
from .corpus import SCENARIOS


@dataclass
class Plan:
    """What a campaign does, beyond the implementation."""

    examples: int = 200
    steps: int = 50
    seed: int | None = None
    policy: str | None = None  # None: every policy the implementation declares
    step_check: bool = True
    observe_every_step: bool = False
    shrink_seconds: float = 20.0
    hypothesis_shrink: bool = False  # delta debugging alone shrinks as small, 100x faster
    database: str | Path | ExampleDatabase | None = None
    save_to: str | Path | None = None
    corpus: list[Path] = field(default_factory=lambda: [SCENARIOS])
    regressions: Path | None = None  # where found counterexamples are kept and replayed
    on_example: Callable[[Record], None] | None = None  # may raise CampaignStopped
    duration: float | None = None  # seconds: a soak run, instead of `examples`
    on_found: Callable[[], None] | None = None  # before shrinking; may raise CampaignStopped
    fill_gaps: bool = True  # then a short run per corner of the domain not drawn (rounds.py)


class CampaignStopped(StopRun):
    """Raised from a Plan's callbacks to end a campaign early: its time is up (`duration`),
    or another worker of the same campaign found a failure."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "duration" | "stopped"


def derive_seed(campaign_seed: int | None, n: int) -> int | None:
    """The seed of worker (or soak round) `n`: the campaign's own for 0, distinct for the
    others, and the same every time for the same campaign seed."""
    if campaign_seed is None or n == 0:
        return campaign_seed
    return (campaign_seed + n * 0x9E3779B1) % 2**32
