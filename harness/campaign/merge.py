"""The verdicts of a campaign's workers, merged into the campaign's one verdict.

The status is the claimed failure's (the first worker to find one), else the gravest of the
others (nonconformance, driver or usage error, interrupted); a campaign every worker finished
cleanly conforms only if the workers together reached every goal the implementation's hello
makes mandatory: a goal is missing from the campaign when it is missing from every worker
(each worker's `missing` is the same required set less what that worker reached). Counts add
up, the deepest cascade is the deepest any worker built, a domain bucket is a gap only if no
worker drew it. `workers` keeps a line per worker for the JSON report.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .verdict import Verdict

GRAVITY = ("nonconformance", "driver_error", "usage_error", "interrupted")


def merge(verdicts: list[Verdict], claimed: int, seeds: list[int | None]) -> Verdict:
    """One verdict for the campaign (see the module's docstring)."""
    lead = _lead(verdicts, claimed)
    out = Verdict(lead.status if lead else "conforms", _driver(verdicts))
    if lead is not None:
        for name in ("kind", "problem", "explanation", "trace", "trace_path", "found_by", "shrink"):
            setattr(out, name, getattr(lead, name))
    out.database = verdicts[0].database
    out.sequences = sum(v.sequences for v in verdicts)
    out.steps = sum(v.steps for v in verdicts)
    out.rounds = sum(v.rounds for v in verdicts)
    out.gap_rounds = sum(v.gap_rounds for v in verdicts)
    out.gap_sequences = sum(v.gap_sequences for v in verdicts)
    out.goal_rounds = sum(v.goal_rounds for v in verdicts)
    out.goal_sequences = sum(v.goal_sequences for v in verdicts)
    out.long_sequences = sum(v.long_sequences for v in verdicts)
    out.deepest = max(v.deepest for v in verdicts)
    out.reached = sorted(set().union(*(v.reached for v in verdicts)))
    out.goal_hits = dict(sorted(sum((Counter(v.goal_hits) for v in verdicts), Counter()).items()))
    out.missing = [g for g in verdicts[0].missing if all(g in v.missing for v in verdicts)]
    out.skipped = dict(sum((Counter(v.skipped) for v in verdicts), Counter()))
    out.by_rule = _rules(verdicts)
    out.domain = {
        dim: sorted(set().union(*(v.domain.get(dim, []) for v in verdicts)))
        for dim in sorted(set().union(*(v.domain for v in verdicts)))
    }
    out.domain_gaps = _gaps(verdicts)
    out.not_verified = {k: r for v in verdicts for k, r in v.not_verified.items()}
    out.faults = [f for v in verdicts for f in v.faults]
    out.close_errors = [e for v in verdicts for e in v.close_errors][:5]
    out.corpus = verdicts[0].corpus
    out.workers = [_line(i, v, seeds[i]) for i, v in enumerate(verdicts)]
    if out.status == "conforms" and out.missing:
        out.status, out.problem = "inconclusive", "not reached: " + ", ".join(out.missing)
    return out


def _lead(verdicts: list[Verdict], claimed: int) -> Verdict | None:
    """The verdict that decides the campaign's status, if any worker did not conform."""
    if 0 <= claimed < len(verdicts) and verdicts[claimed].status in GRAVITY:
        return verdicts[claimed]
    for status in GRAVITY:
        for v in verdicts:
            if v.status == status:
                return v
    return None


def _driver(verdicts: list[Verdict]) -> str:
    return next((v.driver for v in verdicts if v.driver != "?"), verdicts[0].driver)


def _rules(verdicts: list[Verdict]) -> list[dict[str, Any]]:
    """The per-rule coverage tables added up."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for v in verdicts:
        for row in v.by_rule:
            counts[row["op"], row["state"], row["outcome"]] += row["count"]
    return [
        {"op": op, "state": state, "outcome": outcome, "count": n}
        for (op, state, outcome), n in sorted(counts.items())
    ]


def _gaps(verdicts: list[Verdict]) -> dict[str, list[str]]:
    """Buckets no worker drew ("never drawn" in one worker restricts nothing)."""
    out: dict[str, list[str]] = {}
    for dim in sorted(set().union(*(v.domain_gaps for v in verdicts))):
        left: set[str] | None = None
        for v in verdicts:
            gap = v.domain_gaps.get(dim)
            if gap is None:  # this worker drew every bucket of it
                left = set()
                break
            if gap != ["never drawn"]:
                left = set(gap) if left is None else left & set(gap)
        if left is None:
            out[dim] = ["never drawn"]
        elif left:
            out[dim] = sorted(left)
    return out


def _line(index: int, v: Verdict, seed: int | None) -> dict[str, Any]:
    """One worker, for the JSON report."""
    return {
        "worker": index,
        "seed": seed,
        "status": v.status,
        "sequences": v.sequences,
        "steps": v.steps,
        "deepest": v.deepest,
        "seconds": round(v.seconds, 2),
        "reached": len(v.reached),
        "problem": v.problem,
    }
