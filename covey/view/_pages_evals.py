"""Eval pages: the runs list, a run's summary and trials, one trial's transcript, a comparison."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..evals import _format as fmt
from ..evals._results import RunResults, TrialResult
from ..evals._summary import summarize
from ._html import esc, json_block, link, table, url
from ._queries import RunRow

__all__ = ["compare_page", "run_page", "runs_page", "trial_page"]


def runs_page(rows: Sequence[RunRow]) -> str:
    """The runs list, newest first, with a form to compare two runs."""
    if not rows:
        return "<p>No eval runs in this store yet: run <code>covey eval SUITE</code>.</p>"
    body = table(
        ["run", "suite", "model", "trials", "passed", "failed", "errors", "started", "state"],
        (
            [
                link(url("runs", r.run.run_id), r.run.run_id, data_run=r.run.run_id),
                esc(r.run.suite),
                esc(r.run.model),
                esc(r.run.trials_per_case),
                f'<span class="passed">{r.passed}</span>',
                f'<span class="failed">{r.failed}</span>',
                f'<span class="error">{r.errors}</span>',
                esc(r.run.started_at.strftime("%Y-%m-%d %H:%M:%S")),
                "finished" if r.run.finished_at else "<b>running</b>",
            ]
            for r in rows
        ),
        ident="runs",
    )
    options = "".join(f'<option value="{esc(r.run.run_id)}">' for r in rows)
    compare = (
        '<form action="/compare" method="get"><b>Compare</b> '
        '<input type="text" name="a" list="run-ids" placeholder="run id"> with '
        '<input type="text" name="b" list="run-ids" placeholder="run id"> '
        f'<button type="submit">compare</button><datalist id="run-ids">{options}</datalist></form>'
    )
    return body + compare


def run_page(results: RunResults, traces: dict[tuple[str, int], str]) -> str:
    """A run: its summary, then one row per trial linking to the trial page."""
    summary = summarize(results)
    o = summary.overall
    facts = table(
        ["suite", "model", "state", "trials", "passed", "success", "95% CI", "mean score"],
        [
            [
                esc(results.run.suite),
                esc(results.run.model),
                "finished" if results.run.finished_at else "<b>running</b>",
                esc(o.trials),
                esc(o.passed),
                esc(fmt.percent(o.success.rate if o.success else None)),
                esc(fmt.interval(o.success)),
                esc(fmt.score(o.mean_score)),
            ]
        ],
        ident="summary",
    )
    rows = (
        _trial_row(results.run.run_id, t, traces.get((t.case_id, t.trial))) for t in results.trials
    )
    head = ["case", "trial", "status", "score", "seconds", "tokens", "turns", "trace"]
    return facts + "<h2>Trials</h2>" + table(head, rows, ident="trials")


def _trial_row(run_id: str, t: TrialResult, trace_id: str | None) -> list[str]:
    return [
        link(
            url("runs", run_id, "trials", t.case_id, str(t.trial)), t.case_id, data_case=t.case_id
        ),
        esc(t.trial + 1),
        f'<span class="{esc(t.status)}">{esc(t.status)}</span>',
        esc(fmt.score(t.score)),
        esc(fmt.seconds(t.latency_s)),
        esc(fmt.count(t.input_tokens + t.output_tokens)),
        esc(t.turns),
        link(url("traces", trace_id), "trace") if trace_id else "",
    ]


def trial_page(trial: TrialResult, trace_id: str | None) -> str:
    """One trial: verdicts, then the transcript with each tool call's arguments and result."""
    scores = "".join(
        f"<li>{esc(s.name)}: {esc(fmt.score(s.value))} "
        f'<span class="{"passed" if s.passed else "failed"}">{"pass" if s.passed else "fail"}'
        f"</span> {esc(s.explanation)}</li>"
        for s in trial.scores
    )
    parts = [
        f"<p>Run {link(url('runs', trial.run_id), trial.run_id)}, model {esc(trial.model)}, "
        f'status <span class="{esc(trial.status)}" id="status">{esc(trial.status)}</span>, '
        f"score {esc(fmt.score(trial.score))}, {esc(fmt.seconds(trial.latency_s))} s, "
        f"{esc(trial.input_tokens)} in / {esc(trial.output_tokens)} out tokens.</p>",
        f'<ul id="scores">{scores}</ul>',
    ]
    if trace_id:
        parts.append(f"<p>{link(url('traces', trace_id), 'Open the trace', id='trace-link')}</p>")
    if trial.error:
        parts.append(f"<h2>Error</h2><pre>{esc(trial.error)}</pre>")
    parts.append('<h2>Transcript</h2><div id="transcript">')
    parts += [message_html(m) for m in trial.transcript]
    parts.append("</div>")
    return "".join(parts)


def message_html(message: dict[str, Any]) -> str:
    """One transcript message; tool calls show their name and arguments as JSON."""
    role = str(message.get("role", "event"))
    title = role + (f" {message['name']}" if message.get("name") else "")
    parts = [f'<div class="message {esc(role)}"><div class="role">{esc(title)}</div>']
    content = message.get("content")
    if content not in (None, ""):
        text = content if isinstance(content, str) else None
        parts.append(f"<pre>{esc(text)}</pre>" if text is not None else json_block(content))
    for call in message.get("tool_calls") or ():
        name = str(call.get("name", "?"))
        parts.append(
            f'<div class="tool-call" data-tool="{esc(name)}"><b>call {esc(name)}</b>'
            f"{json_block(call.get('arguments', {}), class_='arguments')}</div>"
        )
    if message.get("is_error"):
        parts.append('<div class="error">the tool reported an error</div>')
    return "".join(parts) + "</div>"


def compare_page(a: RunResults, b: RunResults) -> str:
    """Two runs side by side, case by case."""
    by_a = _by_case(a)
    by_b = _by_case(b)
    cases = [c.id for c in a.cases] + [c.id for c in b.cases if c.id not in by_a]
    rows = (
        [esc(case), _cell(a, by_a.get(case, [])), _cell(b, by_b.get(case, []))] for case in cases
    )
    sa, sb = summarize(a).overall, summarize(b).overall
    totals = [
        "<b>success</b>",
        esc(fmt.percent(sa.success.rate if sa.success else None)),
        esc(fmt.percent(sb.success.rate if sb.success else None)),
    ]
    head = ["case", f"{a.run.run_id} ({a.run.model})", f"{b.run.run_id} ({b.run.model})"]
    return table(head, [*rows, totals], ident="comparison")


def _by_case(results: RunResults) -> dict[str, list[TrialResult]]:
    found: dict[str, list[TrialResult]] = {}
    for t in results.trials:
        found.setdefault(t.case_id, []).append(t)
    return found


def _cell(results: RunResults, trials: list[TrialResult]) -> str:
    if not trials:
        return "-"
    return " ".join(
        link(
            url("runs", results.run.run_id, "trials", t.case_id, str(t.trial)),
            t.status,
            class_=t.status,
        )
        for t in trials
    )
