"""From findings to a score and a grade, by a rule written into the report."""

from __future__ import annotations

from collections.abc import Sequence

from ._context import DimensionDraft
from .models import DimensionReport, Finding, Severity

__all__ = ["COST", "RULE", "grade", "letter"]

COST: dict[Severity, int] = {"critical": 40, "high": 20, "medium": 10, "low": 3, "info": 0}
"""Points a finding costs, by severity."""
_LETTERS = ((90, "A"), (75, "B"), (60, "C"), (40, "D"))

RULE = (
    "score = 100 minus, per distinct (check, tool), the cost of its finding "
    "(critical 40, high 20, medium 10, low 3, info 0), at least 0; "
    "grade A >= 90, B >= 75, C >= 60, D >= 40, else F; any critical finding caps the grade at D"
)


def letter(score: int, findings: Sequence[Finding] = ()) -> str:
    """The grade of `score`; a critical finding caps it at D."""
    found = next((name for bound, name in _LETTERS if score >= bound), "F")
    if any(f.severity == "critical" for f in findings) and found in ("A", "B", "C"):
        return "D"
    return found


def grade(draft: DimensionDraft) -> DimensionReport:
    """The draft's score, grade and rule; "-" when the dimension could not be rated."""
    if not draft.rated:
        return draft.report(0, "-", "not rated: " + "; ".join(draft.notes))
    costs: dict[tuple[str, str | None], int] = {}
    for finding in draft.findings:
        key = (finding.check, finding.tool)
        costs[key] = max(costs.get(key, 0), COST[finding.severity])
    score = max(0, 100 - sum(costs.values()))
    return draft.report(score, letter(score, draft.findings), RULE)
