"""The rating report: pydantic types, serialised as the versioned JSON schema `covey rate --json`.

`SCHEMA_VERSION` changes whenever a field is renamed, removed or changes meaning; fields may be
added within a version. `Rating.model_json_schema()` is the documented schema.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "SCHEMA_VERSION",
    "DimensionName",
    "DimensionReport",
    "Evidence",
    "Finding",
    "Rating",
    "Severity",
]

SCHEMA_VERSION = 1
"""The version of the report's JSON form."""

Severity = Literal["critical", "high", "medium", "low", "info"]
"""How much a finding costs: critical 40 points, high 20, medium 10, low 3, info 0."""

DimensionName = Literal["protocol", "definitions", "robustness", "security", "performance"]


class Evidence(BaseModel):
    """What the rater sent and what came back."""

    sent: Any = None
    """The request or tool arguments (long strings shortened)."""
    received: Any = None
    """The answer, error or observation (long strings shortened)."""


class Finding(BaseModel):
    """One problem the rater found, with the check that found it and its evidence."""

    check: str
    """The check's id, e.g. `robustness.crash`."""
    severity: Severity
    message: str
    """What is wrong, in one sentence."""
    tool: str | None = None
    """The tool concerned, if any."""
    evidence: Evidence = Field(default_factory=Evidence)


class DimensionReport(BaseModel):
    """One rated dimension: its score, grade, the rule that gave it, and why."""

    name: DimensionName
    score: int
    """0 to 100: 100 minus the findings' costs."""
    grade: str
    """A to F, from the score (see `rule`); "-" when the dimension could not be rated."""
    rule: str
    """How the score and grade were computed, in words."""
    checks: list[str] = Field(default_factory=list[str])
    """What was checked, passed or not (one line each)."""
    findings: list[Finding] = Field(default_factory=list[Finding])
    notes: list[str] = Field(default_factory=list[str])
    """What could not be checked, and why."""
    measurements: dict[str, float] = Field(default_factory=dict[str, float])
    """Figures measured (performance), by name with its unit in the name."""


class Rating(BaseModel):
    """A rating of one MCP server."""

    schema_version: int = SCHEMA_VERSION
    target: str
    """The command line (stdio) or URL (streamable HTTP) that was rated."""
    transport: Literal["stdio", "http"]
    server_name: str | None = None
    server_version: str | None = None
    protocol_versions: list[str] = Field(default_factory=list[str])
    """The protocol versions the server spoke to the rater."""
    tools: list[str] = Field(default_factory=list[str])
    completed: bool = True
    """False when the rating stopped early (the server crashed, hung or could not start)."""
    stopped_because: str | None = None
    duration_s: float = 0.0
    dimensions: list[DimensionReport] = Field(default_factory=list[DimensionReport])
    covey_version: str = ""

    def dimension(self, name: DimensionName) -> DimensionReport:
        """The report of dimension `name`."""
        for report in self.dimensions:
            if report.name == name:
                return report
        raise KeyError(f"The rating has no {name!r} dimension.")

    def findings(self, check_prefix: str = "") -> list[Finding]:
        """Every finding whose check id starts with `check_prefix`, across dimensions."""
        return [f for d in self.dimensions for f in d.findings if f.check.startswith(check_prefix)]
