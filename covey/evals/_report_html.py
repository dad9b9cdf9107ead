"""The HTML report: one self-contained file that opens offline in any browser.

Styles are inline, charts are inline SVG, and the one small script only filters the trial
list. Every summary figure sits in an element with a stable `id` and its exact value in
`data-value`, so tools (and tests) can read the numbers back from the page.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from html import escape
from pathlib import Path
from typing import Any

from . import _format as fmt
from ._charts import column_rates, histogram, rate_bars
from ._prices import PriceTable
from ._results import RunResults, TrialResult
from ._summary import GroupStats, RunSummary, summarize

__all__ = ["html_report", "write_html_report"]

_CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#555;font-size:13px}
.stats{display:flex;flex-wrap:wrap;gap:10px;margin-top:14px}
.stat{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:110px}
.stat .label{font-size:11px;color:#666;text-transform:uppercase}
.stat .value{font-size:20px;font-weight:600}
table{border-collapse:collapse;font-size:13px}
th,td{border-bottom:1px solid #eee;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
.passed{color:#2e7d32}.failed{color:#c62828}.error{color:#ef6c00}
details{border:1px solid #e5e5e5;border-radius:4px;margin:4px 0;padding:4px 8px}
summary{cursor:pointer;font-size:13px}
pre{white-space:pre-wrap;word-break:break-word;background:#f7f7f7;padding:6px;margin:4px 0;
font-size:12px}
.role{font-weight:600;font-size:12px;margin-top:6px}
.filters button{margin-right:6px}
"""

_SCRIPT = """
document.querySelectorAll('.filters button').forEach(function (b) {
  b.addEventListener('click', function () {
    var want = b.dataset.filter, shown = 0;
    document.querySelectorAll('details.trial').forEach(function (d) {
      var on = want === 'all' || d.dataset.status === want;
      d.style.display = on ? '' : 'none'; if (on) { shown++; }
    });
    document.getElementById('trials-shown').textContent = shown;
  });
});
document.getElementById('trials-shown').textContent =
  document.querySelectorAll('details.trial').length;
document.documentElement.dataset.ready = '1';
"""


def _stat(ident: str, label: str, value: float | int | None, shown: str, **data: Any) -> str:
    attrs = "".join(f' data-{k}="{escape(str(v))}"' for k, v in data.items())
    raw = "" if value is None else repr(value)
    return (
        f'<div class="stat"><div class="label">{escape(label)}</div>'
        f'<div class="value" id="{ident}" data-value="{escape(raw)}"{attrs}>'
        f"{escape(shown)}</div></div>"
    )


def _stats(overall: GroupStats, ks: list[int], currency: str | None) -> str:
    s, lat, k = overall.success, overall.latency, ks[-1] if ks else 1
    rate, low, high = (s.rate, s.low, s.high) if s else (None, None, None)
    p50, p95 = (lat.p50, lat.p95) if lat else (None, None)
    at, hat, mean = overall.pass_at(k), overall.pass_hat(k), overall.mean_score
    tokens_in, tokens_out = overall.input_tokens, overall.output_tokens
    cards = [
        _stat("stat-success-rate", "success", rate, fmt.percent(rate)),
        _stat("stat-ci-low", "95% CI low", low, fmt.percent(low)),
        _stat("stat-ci-high", "95% CI high", high, fmt.percent(high)),
        _stat("stat-passed", "passed", overall.passed, str(overall.passed)),
        _stat("stat-failed", "failed", overall.failed, str(overall.failed)),
        _stat("stat-errors", "infra errors", overall.errors, str(overall.errors)),
        _stat("stat-pass-at-k", f"pass@{k}", at, fmt.percent(at), k=k),
        _stat("stat-pass-hat-k", f"pass^{k}", hat, fmt.percent(hat), k=k),
        _stat("stat-mean-score", "mean score", mean, fmt.score(mean)),
        _stat("stat-input-tokens", "input tokens", tokens_in, fmt.count(tokens_in)),
        _stat("stat-output-tokens", "output tokens", tokens_out, fmt.count(tokens_out)),
        _stat("stat-cost", "cost", overall.cost, fmt.money(overall.cost, currency)),
        _stat("stat-latency-p50", "latency p50 s", p50, fmt.seconds(p50)),
        _stat("stat-latency-p95", "latency p95 s", p95, fmt.seconds(p95)),
        *_protocol_stats(overall),
    ]
    return '<div class="stats">' + "".join(cards) + "</div>"


def _protocol_stats(overall: GroupStats) -> list[str]:
    p = overall.protocol
    shares = [
        ("stat-valid-tool-names", "valid tool names", p.valid_tool_names),
        ("stat-valid-arguments", "valid arguments", p.schema_valid_arguments),
        ("stat-tool-errors", "tool errors", p.tool_errors),
    ]
    cards = [_stat("stat-tool-calls", "tool calls", p.tool_calls, fmt.count(p.tool_calls))]
    for ident, label, part in shares:
        share = part / p.tool_calls if p.tool_calls else None
        cards.append(_stat(ident, label, share, fmt.percent(share)))
    return cards


def _case_table(summary: RunSummary) -> str:
    k = summary.ks[-1] if summary.ks else 1
    head = (
        "<tr><th>case</th><th>tags</th><th>passed</th><th>errors</th><th>rate</th>"
        f"<th>95% CI %</th><th>pass^{k}</th><th>score</th><th>p50 s</th><th>verdict</th></tr>"
    )
    rows: list[str] = []
    for case in summary.cases:
        s = case.stats
        rate = s.success.rate if s.success else None
        shown_rate = "" if rate is None else repr(rate)
        rows.append(
            f'<tr data-case-id="{escape(case.case_id)}" data-rate="{shown_rate}">'
            f"<td>{escape(case.case_id)}</td><td>{escape(', '.join(case.tags))}</td>"
            f"<td>{s.passed}/{s.passed + s.failed}</td><td>{s.errors}</td>"
            f"<td>{fmt.percent(rate)}</td><td>{fmt.interval(s.success)}</td>"
            f"<td>{fmt.percent(s.pass_hat(k))}</td><td>{fmt.score(s.mean_score)}</td>"
            f"<td>{fmt.seconds(s.latency.p50 if s.latency else None)}</td>"
            f"<td>{escape(case.verdict)}</td></tr>"
        )
    return f'<table id="cases">{head}{"".join(rows)}</table>'


def _tag_table(summary: RunSummary) -> str:
    if not summary.tags:
        return ""
    rows = "".join(
        f'<tr data-tag="{escape(t.tag)}"><td>{escape(t.tag)}</td><td>{t.cases}</td>'
        f"<td>{t.stats.passed}/{t.stats.passed + t.stats.failed}</td>"
        f"<td>{fmt.percent(t.stats.success.rate if t.stats.success else None)}</td>"
        f"<td>{fmt.interval(t.stats.success)}</td></tr>"
        for t in summary.tags
    )
    head = "<tr><th>tag</th><th>cases</th><th>passed</th><th>rate</th><th>95% CI %</th></tr>"
    return f'<h2>By tag</h2><table id="tags">{head}{rows}</table>'


def _message(message: dict[str, Any]) -> str:
    role = str(message.get("role", message.get("type", "event")))
    content = message.get("content")
    rest = {k: v for k, v in message.items() if k not in {"role", "content"}}
    parts = [f'<div class="role">{escape(role)}</div>']
    if content not in (None, ""):
        text = content if isinstance(content, str) else json.dumps(content, indent=2)
        parts.append(f"<pre>{escape(text)}</pre>")
    if rest:
        parts.append(f"<pre>{escape(json.dumps(rest, indent=2, default=str))}</pre>")
    return "".join(parts)


def _trial(trial: TrialResult) -> str:
    scores = "".join(
        f"<li>{escape(s.name)}: {fmt.score(s.value)} {'pass' if s.passed else 'fail'} - "
        f"{escape(s.explanation)}</li>"
        for s in trial.scores
    )
    body = [f"<ul>{scores}</ul>" if scores else ""]
    if trial.error:
        body.append(f'<div class="role">error</div><pre>{escape(trial.error)}</pre>')
    if trial.output is not None:
        body.append(f'<div class="role">output</div><pre>{escape(trial.output)}</pre>')
    body += [_message(m) for m in trial.transcript]
    limit = f" limit: {trial.limit_hit}" if trial.limit_hit else ""
    return (
        f'<details class="trial" data-status="{trial.status}" '
        f'data-case-id="{escape(trial.case_id)}" data-trial="{trial.trial}">'
        f'<summary><span class="{trial.status}">{trial.status}</span> '
        f"{escape(trial.case_id)} #{trial.trial + 1} score {fmt.score(trial.score)} "
        f"{fmt.seconds(trial.latency_s)} s "
        f"{fmt.count(trial.input_tokens + trial.output_tokens)} tokens "
        f"{trial.turns} turns{escape(limit)}</summary>{''.join(body)}</details>"
    )


def _trials(trials: Iterable[TrialResult], case_order: list[str]) -> str:
    rank = {case_id: i for i, case_id in enumerate(case_order)}
    ordered = sorted(trials, key=lambda t: (rank.get(t.case_id, len(rank)), t.case_id, t.trial))
    buttons = "".join(
        f'<button type="button" data-filter="{f}">{f}</button>'
        for f in ("all", "passed", "failed", "error")
    )
    return (
        f'<h2>Trials (<span id="trials-shown">{len(ordered)}</span> shown)</h2>'
        f'<div class="filters">{buttons}</div>' + "".join(_trial(t) for t in ordered)
    )


def _by_trial(summary: RunSummary) -> str:
    """Success by trial index, when there are several (with one, it is the success rate)."""
    if len(summary.by_trial_index) < 2:
        return ""
    return (
        "<h2>Success by trial</h2>"
        f'<div id="chart-trial-index">{column_rates(summary.by_trial_index)}</div>'
    )


def html_report(results: RunResults, summary: RunSummary | None = None) -> str:
    """The report for a run as one HTML document (text, escaped, no external references)."""
    summary = summary if summary is not None else summarize(results)
    run = summary.run
    bars = rate_bars([(c.case_id, c.stats.success, c.verdict) for c in summary.cases])
    latencies = [t.latency_s for t in results.trials if t.status != "error"]
    title = f"covey eval {run.suite} on {run.model}"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f'<div class="meta" id="run" data-run-id="{escape(run.run_id)}">run '
        f"{escape(run.run_id)} - {run.trials_per_case} trials per case - started "
        f"{run.started_at.isoformat(timespec='seconds')}</div>"
        + _stats(summary.overall, summary.ks, summary.currency)
        + f'<h2>Success per case</h2><div id="chart-cases">{bars}</div>'
        + f'<h2>Latency</h2><div id="chart-latency">{histogram(latencies)}</div>'
        + _by_trial(summary)
        + "<h2>Cases</h2>"
        + _case_table(summary)
        + _tag_table(summary)
        + _trials(results.trials, [c.case_id for c in summary.cases])
        + f"<script>{_SCRIPT}</script></body></html>"
    )


def write_html_report(
    path: str | Path, results: RunResults, *, prices: PriceTable | None = None
) -> Path:
    """Write the HTML report for a run to `path` (parents created) and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html_report(results, summarize(results, prices=prices)), encoding="utf-8")
    return target
