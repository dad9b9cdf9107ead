"""From findings to a score and a grade, by a rule written into the report."""

from __future__ import annotations

from collections.abc import Sequence

from ._context import DimensionDraft
from .models import DimensionReport, Finding, Severity

__all__ = ["COST", "PER_CHECK_TOOLS", "RULE", "grade", "letter", "score"]

COST: dict[Severity, int] = {"critical": 40, "high": 20, "medium": 10, "low": 3, "info": 0}
"""Points a finding costs, by severity."""
_LETTERS = ((90, "A"), (75, "B"), (60, "C"), (40, "D"))

PER_CHECK_TOOLS = 3
"""A check costs its severity once per tool it found, for at most this many tools."""

RULE = (
    "score = 100 minus, for each check, its severity's cost (critical 40, high 20, medium 10, "
    f"low 3, info 0) times the number of tools it found (at most {PER_CHECK_TOOLS}), "
    "at least 0; grade A >= 90, B >= 75, C >= 60, D >= 40, else F; "
    "any critical finding caps the grade at D"
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
    return draft.report(score(draft.findings), letter(score(draft.findings), draft.findings), RULE)


def score(findings: Sequence[Finding]) -> int:
    """100 minus the findings' costs, by `RULE`."""
    costs: dict[str, dict[str | None, int]] = {}
    for finding in findings:
        by_tool = costs.setdefault(finding.check, {})
        by_tool[finding.tool] = max(by_tool.get(finding.tool, 0), COST[finding.severity])
    total = sum(sum(sorted(t.values())[-PER_CHECK_TOOLS:]) for t in costs.values())
    return max(0, 100 - total)
