"""The grading rule, on findings: what a finding costs and where the letters fall."""

from __future__ import annotations

from covey.rating._grades import letter, score
from covey.rating.models import Finding, Severity


def _found(check: str, severity: Severity, *tools: str | None) -> list[Finding]:
    return [Finding(check=check, severity=severity, message="m", tool=t) for t in tools]


def test_a_check_costs_its_severity_per_tool_for_at_most_three_tools() -> None:
    five = _found("definitions.annotations.missing", "low", "a", "b", "c", "d", "e")
    assert score(five) == 100 - 3 * 3
    assert score(_found("robustness.crash", "critical", "a", "b")) == 100 - 80
    assert score(_found("robustness.crash", "critical", "a", "a")) == 60  # one tool, once


def test_info_findings_cost_nothing_and_scores_stop_at_zero() -> None:
    assert score(_found("definitions.name_collision", "info", None)) == 100
    many = [f for c in "abcdef" for f in _found(f"x.{c}", "critical", "t")]
    assert score(many) == 0


def test_letters_and_the_critical_cap() -> None:
    assert [letter(s) for s in (100, 90, 89, 75, 74, 60, 59, 40, 39)] == [
        "A", "A", "B", "B", "C", "C", "D", "D", "F"
    ]  # fmt: skip
    critical = _found("security.path_escape", "critical", "t")
    assert letter(95, critical) == "D"
    assert letter(20, critical) == "F"
