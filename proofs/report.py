"""The report of a run: one row per obligation and per control, and the verdict of them all."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .verdicts import Outcome


@dataclass
class Row:
    """One line of the report."""

    name: str
    role: str  # obligation | control
    verdict: str  # proved | failed | unknown | caught | missed
    ok: bool
    seconds: float
    queries: int
    detail: str = ""
    trace: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def outcome_row(o: Outcome, role: str = "obligation") -> Row:
    detail = ""
    if o.failure is not None:
        where = ""
        if o.failure.situation is not None:
            steps = [st.label() for st in o.failure.situation.path]
            where = f"after [{'; '.join(steps)}]"
            if o.failure.step is not None:
                where += f", step {o.failure.step.label()}"
        detail = f"{where}\n{o.failure.detail}".strip()
    return Row(
        o.name,
        role,
        o.verdict,
        o.verdict == "proved",
        o.seconds,
        o.queries,
        detail,
        extra={"note": o.note} if o.note else {},
    )


def control_row(name: str, o: Outcome, rule: str) -> Row:
    row = outcome_row(o, "control")
    caught = o.verdict == "failed"
    row.name, row.ok = name, caught
    row.verdict = "caught" if caught else "missed"
    row.detail = f"wrong rule: {rule}\n{row.detail}".strip()
    return row


# the claims of the per-type policy itself: under the mixed policy (one cascade for every type,
# the prior art) they must fail, as the `types-ignored` control shows for the per-type rules
PER_TYPE_CLAIMS = (
    "type-separation",
    "unbounded-forest-refines-spec",
    "unbounded-restore-heads-refines-spec",
    "unbounded-restore-copied-refines-spec",
    "unbounded-graph-refines-spec",
    "unbounded-graph-refines-spec-closed",
)


def policy_row(row: Row) -> Row:
    """Under another policy, a per-type claim is a control the policy must fail: caught if it
    fails, missed if it proves (the policy would not differ from per-type)."""
    if row.role != "obligation" or row.name not in PER_TYPE_CLAIMS:
        return row
    caught = row.verdict == "failed"
    detail = f"a per-type claim, which the mixed policy must fail: {row.detail}"
    return replace(
        row,
        name=f"mixed-policy / {row.name}",
        role="control",
        verdict="caught" if caught else "missed",
        ok=caught,
        detail=detail,
    )


def passed(rows: list[Row]) -> bool:
    """Every obligation proved and every control caught."""
    return bool(rows) and all(r.ok for r in rows)
