"""Campaigns: the scenario corpus, then Hypothesis; failures shrunk, saved and explained."""

from __future__ import annotations

from .plan import Plan
from .run import run_campaign
from .verdict import EXIT_CODES, Verdict

__all__ = ["EXIT_CODES", "Plan", "Verdict", "run_campaign"]
