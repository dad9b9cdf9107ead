"""Trace pages: recent traces, and one trace as a waterfall of its spans."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ._html import esc, json_block, link, table, url
from ._queries import SpanRecord, TraceSummary

__all__ = ["trace_page", "traces_page"]

# Attributes shown as their own blocks (messages, arguments, results), not in the table.
_CONTENT = {
    "gen_ai.input.messages": "input messages",
    "gen_ai.output.messages": "output messages",
    "gen_ai.system_instructions": "instructions",
    "gen_ai.tool.call.arguments": "arguments",
    "gen_ai.tool.call.result": "result",
}


def traces_page(traces: Sequence[TraceSummary]) -> str:
    """The latest traces, newest first."""
    if not traces:
        return (
            "<p>No traces in this store yet: call <code>covey.tracing.configure(store=True)"
            "</code> in the traced program (or <code>covey eval --trace</code>).</p>"
        )
    return table(
        ["trace", "started", "seconds", "spans", "status", "service"],
        (
            [
                link(url("traces", t.root.trace_id), t.root.name, data_trace=t.root.trace_id),
                esc(_time(t.root.start_ns)),
                esc(f"{t.root.seconds:.3f}"),
                esc(t.span_count),
                f'<span class="{esc(t.root.status)}">{esc(t.root.status)}</span>',
                esc(t.root.service),
            ]
            for t in traces
        ),
        ident="traces",
    )


def _time(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S")


def trace_page(spans: Sequence[SpanRecord]) -> str:
    """A waterfall: each span as a bar on the trace's time axis, nested under its parent."""
    start = min(s.start_ns for s in spans)
    total = max(max(s.end_ns for s in spans) - start, 1)
    rows = [_span_row(s, depth, start, total) for s, depth in _tree_order(spans)]
    return (
        f"<p>{len(spans)} spans, {esc(f'{total / 1e9:.3f}')} s, started {esc(_time(start))} UTC."
        f'</p><div id="waterfall">{"".join(rows)}</div>'
    )


def _tree_order(spans: Sequence[SpanRecord]) -> list[tuple[SpanRecord, int]]:
    """Spans depth first, children in start order; orphans (parent not stored) at the top."""
    ids = {s.span_id for s in spans}
    children: dict[str | None, list[SpanRecord]] = {}
    for s in spans:
        parent = s.parent_id if s.parent_id in ids else None
        children.setdefault(parent, []).append(s)
    ordered: list[tuple[SpanRecord, int]] = []
    stack = [(s, 0) for s in reversed(children.get(None, []))]
    while stack:
        span, depth = stack.pop()
        ordered.append((span, depth))
        stack += [(c, depth + 1) for c in reversed(children.get(span.span_id, []))]
    return ordered


def _span_row(span: SpanRecord, depth: int, start: int, total: int) -> str:
    left = 100 * (span.start_ns - start) / total
    width = 100 * (span.end_ns - span.start_ns) / total
    status = "error" if span.status == "error" else "ok"
    return (
        f'<details class="span-detail" data-span="{esc(span.name)}"><summary class="span-row">'
        f'<span style="padding-left:{depth * 16}px">{esc(span.name)}</span>'
        f'<span class="bar-track"><span class="bar {status}" '
        f'style="left:{left:.2f}%;width:{width:.2f}%"></span></span>'
        f"<span>{esc(f'{span.seconds * 1000:.1f}')} ms{_tokens(span)}</span></summary>"
        f"{_span_detail(span)}</details>"
    )


def _tokens(span: SpanRecord) -> str:
    used = [span.attributes.get(f"gen_ai.usage.{k}_tokens") for k in ("input", "output")]
    if used == [None, None]:
        return ""
    return f' <span class="tokens">{esc(used[0] or 0)}+{esc(used[1] or 0)} tok</span>'


def _span_detail(span: SpanRecord) -> str:
    plain = {k: v for k, v in span.attributes.items() if k not in _CONTENT}
    parts = [table(["attribute", "value"], ([esc(k), esc(v)] for k, v in sorted(plain.items())))]
    for key, title in _CONTENT.items():
        if key in span.attributes:
            parts.append(
                f"<div><b>{esc(title)}</b>{json_block(_parsed(span.attributes[key]))}</div>"
            )
    if span.status_message:
        parts.append(f'<pre class="error">{esc(span.status_message)}</pre>')
    for event in span.events:
        parts.append(f"<div><b>event {esc(event.get('name', ''))}</b>{json_block(event)}</div>")
    return "".join(parts)


def _parsed(value: Any) -> Any:
    """Contents are stored as JSON text; show them as indented JSON when they parse."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
