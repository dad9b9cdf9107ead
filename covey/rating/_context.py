"""What every dimension's checks share: the connection, the sandbox, the tools, the options."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp_types import Tool

from ._calls import Outcome, call_tool
from ._session import Connection, Sandbox
from .models import DimensionName, DimensionReport, Evidence, Finding, Severity

__all__ = ["DimensionDraft", "RateContext", "RateOptions"]


@dataclass(kw_only=True, slots=True, frozen=True)
class RateOptions:
    """How hard to rate."""

    call_timeout: float = 10.0
    """Seconds one request may take before it counts as a hang."""
    start_timeout: float = 60.0
    """Seconds the server may take to start and finish the handshake."""
    malformed_calls: int = 12
    """Malformed calls per tool in the robustness dimension."""
    budget: float = 600.0
    """Seconds for the whole rating; it stops there and says so."""
    max_restarts: int = 4
    """Restarts of a crashed or hung stdio server before robustness stops."""
    seed: int = 0
    npm_tools: Path | None = None
    """Where `.ci/npm-tools.sh` installed Node 22 and the conformance suite (default:
    `$COVEY_NPM_TOOLS`, else `./.tools/npm`)."""


@dataclass(kw_only=True, slots=True)
class DimensionDraft:
    """A dimension's checks, findings and notes, before it is graded."""

    name: DimensionName
    checks: list[str] = field(default_factory=list[str])
    findings: list[Finding] = field(default_factory=list[Finding])
    notes: list[str] = field(default_factory=list[str])
    measurements: dict[str, float] = field(default_factory=dict[str, float])
    rated: bool = True

    def passed(self, check: str) -> None:
        self.checks.append(f"pass: {check}")

    def failed(
        self,
        check: str,
        severity: Severity,
        message: str,
        *,
        tool: str | None = None,
        sent: Any = None,
        received: Any = None,
    ) -> None:
        self.checks.append(f"FAIL: {check}: {message}")
        evidence = Evidence(sent=sent, received=received)
        self.findings.append(
            Finding(check=check, severity=severity, message=message, tool=tool, evidence=evidence)
        )

    def report(self, score: int, grade: str, rule: str) -> DimensionReport:
        return DimensionReport(
            name=self.name,
            score=score,
            grade=grade,
            rule=rule,
            checks=self.checks,
            findings=self.findings,
            notes=self.notes,
            measurements=self.measurements,
        )


@dataclass(kw_only=True, slots=True)
class RateContext:
    """The live state of one rating."""

    conn: Connection
    sandbox: Sandbox
    options: RateOptions
    tools: list[Tool] = field(default_factory=list[Tool])
    stopped_because: str | None = None

    async def call(self, tool: str, arguments: dict[str, Any]) -> Outcome:
        return await call_tool(self.conn, tool, arguments, timeout=self.options.call_timeout)

    async def restart(self) -> bool:
        """Start a stdio server again after a crash or hang; False for HTTP or past the limit."""
        if self.conn.process is None or self.conn.starts > self.options.max_restarts:
            return False
        try:
            await self.conn.open()
        except Exception as exc:
            self.stopped_because = f"the server could not be restarted: {exc}"
            return False
        return True
