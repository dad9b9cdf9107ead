"""The self-contained HTML report: a badge per dimension, then every finding and its evidence.

No external resource: one inline style sheet and one inline script (which only marks the page
ready, for the headless-browser check). Every value from the server is escaped.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from ._grades import RULE
from .models import DimensionReport, Finding, Rating

__all__ = ["html_report"]

_COLOURS = {"A": "#2e7d32", "B": "#689f38", "C": "#f9a825", "D": "#ef6c00", "F": "#c62828"}
_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
.badges{display:flex;gap:.6em;flex-wrap:wrap;margin:1em 0}
.badge{display:flex;border-radius:4px;overflow:hidden;font:600 14px monospace}
.badge span{padding:.3em .6em;color:#fff}.badge .name{background:#555}
.finding{border-left:4px solid #999;margin:.6em 0;padding:.2em .8em;background:#fafafa}
.critical{border-color:#c62828}.high{border-color:#ef6c00}.medium{border-color:#f9a825}
.low{border-color:#689f38}.info{border-color:#90a4ae}
pre{white-space:pre-wrap;word-break:break-all;background:#f1f1f1;padding:.5em;margin:.3em 0}
table{border-collapse:collapse}td,th{padding:.2em .8em;border-bottom:1px solid #ddd;text-align:left}
"""


def _badge(report: DimensionReport) -> str:
    colour = _COLOURS.get(report.grade, "#9e9e9e")
    return (
        f'<div class="badge" id="badge-{report.name}" data-grade="{escape(report.grade)}" '
        f'data-score="{report.score}"><span class="name">{report.name}</span>'
        f'<span style="background:{colour}">{escape(report.grade)}</span></div>'
    )


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, indent=1, ensure_ascii=False)
    return escape(text)


def _finding(finding: Finding) -> str:
    tool = f" <code>{escape(finding.tool)}</code>" if finding.tool else ""
    parts = [
        f'<details class="finding {finding.severity}" data-check="{escape(finding.check)}">',
        f"<summary><b>{finding.severity}</b> {escape(finding.check)}{tool}: "
        f"{escape(finding.message)}</summary>",
    ]
    if finding.evidence.sent is not None:
        parts.append(f"<div>sent</div><pre>{_shown(finding.evidence.sent)}</pre>")
    if finding.evidence.received is not None:
        parts.append(f"<div>received</div><pre>{_shown(finding.evidence.received)}</pre>")
    return "".join(parts) + "</details>"


def _dimension(report: DimensionReport) -> str:
    figures = "".join(
        f'<tr><th>{escape(k)}</th><td id="measure-{escape(k)}">{v:g}</td></tr>'
        for k, v in report.measurements.items()
    )
    checks = "".join(f"<li>{escape(c)}</li>" for c in report.checks)
    notes = "".join(f"<li>{escape(n)}</li>" for n in report.notes)
    return (
        f'<section id="dimension-{report.name}"><h2>{report.name}: {escape(report.grade)} '
        f"({report.score})</h2>"
        + (f"<table>{figures}</table>" if figures else "")
        + "".join(_finding(f) for f in report.findings)
        + (f"<ul class='notes'>{notes}</ul>" if notes else "")
        + (f"<details><summary>{len(report.checks)} checks</summary><ul>{checks}</ul></details>")
        + "</section>"
    )


def html_report(rating: Rating) -> str:
    """The rating as one self-contained HTML page."""
    server = " ".join(x for x in (rating.server_name, rating.server_version) if x) or "unnamed"
    status = (
        ""
        if rating.completed
        else f'<p id="incomplete"><b>Incomplete:</b> {escape(rating.stopped_because or "")}</p>'
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>covey rate: {escape(server)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>MCP server rating: {escape(server)}</h1>"
        f"<p><code>{escape(rating.target)}</code> ({rating.transport}); protocols "
        f"{escape(', '.join(rating.protocol_versions) or 'none')}; {len(rating.tools)} tools; "
        f"rated in {rating.duration_s:.1f}s by covey {escape(rating.covey_version)} "
        f"(report schema {rating.schema_version})</p>"
        + status
        + f'<div class="badges" id="badges">{"".join(_badge(r) for r in rating.dimensions)}</div>'
        + f'<p id="rule">Grades: {escape(RULE)}.</p>'
        + "".join(_dimension(r) for r in rating.dimensions)
        + "<script>document.documentElement.dataset.ready='1';</script></body></html>"
    )
