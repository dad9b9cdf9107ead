"""The terminal scorecard: a grade per dimension, then every finding with its evidence."""

from __future__ import annotations

import json
from typing import Any

from ._grades import RULE
from .models import DimensionReport, Finding, Rating

__all__ = ["scorecard"]

_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


def _figures(report: DimensionReport) -> str:
    shown = {"ready_s": "ready {:.2f}s", "calls_per_s": "{:.0f} calls/s", "memory_mb": "{:.0f} MB"}
    return ", ".join(shown[k].format(v) for k, v in report.measurements.items() if k in shown)


def _evidence(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "..."


def _finding(finding: Finding) -> list[str]:
    lines = [f"  [{finding.severity}] {finding.check}: {finding.message}"]
    if finding.evidence.sent is not None:
        lines.append(f"      sent:     {_evidence(finding.evidence.sent)}")
    if finding.evidence.received is not None:
        lines.append(f"      received: {_evidence(finding.evidence.received)}")
    return lines


def scorecard(rating: Rating) -> str:
    """The rating as text for a terminal, ending with the grading rule."""
    server = " ".join(x for x in (rating.server_name, rating.server_version) if x) or "unnamed"
    lines = [
        f"covey rate: {rating.target} ({rating.transport})",
        f"server {server}; protocols {', '.join(rating.protocol_versions) or 'none'}; "
        f"{len(rating.tools)} tools; rated in {rating.duration_s:.1f}s",
    ]
    if not rating.completed:
        lines.append(f"INCOMPLETE: {rating.stopped_because}")
    lines.append("")
    for report in rating.dimensions:
        counted = [f for f in report.findings if f.severity != "info"]
        score = f"{report.score:>3}" if report.grade != "-" else "  -"
        detail = _figures(report) or (f"{len(counted)} findings" if counted else "")
        if report.grade == "-":
            detail = "; ".join(report.notes)
        lines.append(f"  {report.name:<12} {report.grade:<2} {score}  {detail}".rstrip())
    findings = sorted(rating.findings(), key=lambda f: (_ORDER[f.severity], f.check))
    if findings:
        lines += ["", f"Findings ({len(findings)}):"]
        for finding in findings:
            lines += _finding(finding)
    notes = [f"  {r.name}: {n}" for r in rating.dimensions if r.grade != "-" for n in r.notes]
    if notes:
        lines += ["", "Notes:", *notes]
    lines += ["", f"Grades: {RULE}."]
    return "\n".join(lines)
