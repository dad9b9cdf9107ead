"""The run summary, the terminal table and progress bar, and the JSON report."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from covey.evals._metrics import wilson_interval
from covey.evals._prices import PriceTable
from covey.evals._report_json import REPORT_FORMAT, json_report, write_json_report
from covey.evals._report_terminal import ProgressBar, format_summary
from covey.evals._summary import summarize

from .report_data import make_run

PRICES = PriceTable.from_mapping({"tiny": {"input": 1.0, "output": 2.0}})


def test_summary_overall_counts_errors_apart() -> None:
    summary = summarize(make_run(), prices=PRICES)
    o = summary.overall
    assert (o.trials, o.passed, o.failed, o.errors) == (12, 7, 4, 1)
    assert o.success == wilson_interval(7, 11)
    assert o.mean_score == pytest.approx(7 / 11)
    assert summary.ks == [1, 2, 3]
    assert o.pass_hat(3) == pytest.approx(1 / 3)  # convert-time has 2 counted trials: skipped
    assert o.pass_at(3) == pytest.approx(2 / 3)
    assert o.pass_hat(2) == pytest.approx((1 + 1 / 3 + 0 + 1) / 4)
    assert o.pass_at(2) == pytest.approx(3 / 4)
    assert next(p for p in o.pass_k if p.k == 3).skipped == 1
    # Tokens and cost count every trial, the errored one too: inputs 100 * (1 + ... + 12).
    assert (o.input_tokens, o.output_tokens) == (7800, 780)
    assert o.cost == pytest.approx((7800 * 1.0 + 780 * 2.0) / 1e6)
    assert summary.currency == "USD"
    # Latency leaves the error out: 0.5, 1.0, ..., 5.0, 6.0.
    assert o.latency is not None
    assert (o.latency.count, o.latency.p50, o.latency.p95) == (11, 3.0, pytest.approx(5.5))
    assert o.limit_hits == 3
    assert (o.protocol.tool_calls, o.protocol.tool_errors) == (12, 4)


def test_summary_per_case_and_per_tag() -> None:
    summary = summarize(make_run())
    verdicts = {c.case_id: c.verdict for c in summary.cases}
    assert verdicts == {
        "read-file": "stable pass",
        "sum-rows": "flaky",
        "recall-fact": "stable fail",
        "convert-time": "stable pass",
    }
    assert [c.case_id for c in summary.cases] == list(verdicts)  # suite order
    convert = summary.cases[3].stats
    assert (convert.passed, convert.failed, convert.errors) == (2, 0, 1)
    assert [p.k for p in convert.pass_k] == [1, 2]
    easy = next(t for t in summary.tags if t.tag == "easy")
    assert easy.cases == 2 and (easy.stats.passed, easy.stats.errors) == (5, 1)
    assert easy.stats.success is not None and easy.stats.success.rate == 1.0
    assert [t.tag for t in summary.tags] == ["easy", "files", "memory", "sql", "time"]
    # Trial #1 of every case: P, F, F, E -> 1 of 3 counted.
    index_one = summary.by_trial_index[1]
    assert index_one is not None and (index_one.successes, index_one.total) == (1, 3)
    assert summary.overall.cost is None and summary.currency is None  # no price table


def test_summary_of_a_run_without_trials() -> None:
    empty = make_run().model_copy(update={"trials": []})
    summary = summarize(empty)
    assert summary.overall.success is None and summary.overall.latency is None
    assert {c.verdict for c in summary.cases} == {"no data"}
    text = format_summary(summary)
    assert "Success - (95% CI -): 0 passed, 0 failed, 0 infrastructure errors" in text


def test_terminal_table_fits_and_shows_the_figures() -> None:
    text = format_summary(summarize(make_run(), prices=PRICES))
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert "Success 63.6% (95% CI 35.4-84.8%): 7 passed, 4 failed, 1 infrastructure" in text
    assert "pass@3 66.7%  pass^3 33.3%" in text
    assert "Tokens 7,800 in / 780 out  cost 0.0094 USD  latency p50 3.00 s  p95 5.50 s" in text
    assert "Tool calls 12: valid names 100.0%, valid arguments 100.0%, errors 33.3%" in text
    row = next(line for line in lines if line.startswith("sum-rows"))
    assert row.split() == [
        "sum-rows",
        "sql",
        "2/3",
        "0",
        "66.7%",
        "20.8-93.9",
        "0.0%",
        "0.67",
        "2.50",
        "flaky",
    ]
    assert [
        line.split()[0]
        for line in lines
        if line.split() and line.split()[0] in ("easy", "files", "memory", "sql", "time")
    ] == ["easy", "files", "memory", "sql", "time"]
    case_header = next(line for line in lines if line.startswith("case"))
    assert case_header.split() == [
        "case",
        "tags",
        "pass",
        "err",
        "rate",
        "95%",
        "CI",
        "%",
        "pass^3",
        "score",
        "p50",
        "s",
        "verdict",
    ]


def test_terminal_table_cuts_long_case_ids_to_the_width() -> None:
    long_id = "a-very-long-case-identifier-" * 4
    run = make_run(outcomes={long_id: (["t"], "PF")})
    text = format_summary(summarize(run), width=80)
    assert max(len(line) for line in text.splitlines()[4:]) <= 80
    assert "~" in text


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_bar_without_a_terminal_prints_every_n_trials() -> None:
    out, clock = io.StringIO(), FakeClock()
    bar = ProgressBar(out, tty=False, every=5, clock=clock)
    trials = make_run().trials
    bar.start(len(trials))
    for trial in trials:
        clock.now += 2.0
        bar.advance(trial)
    bar.finish()
    lines = out.getvalue().splitlines()
    assert len(lines) == 3  # after 5, after 10, at 12 of 12
    assert "\r" not in out.getvalue()
    assert "5/12  pass 4 fail 1 err 0  running 0  rate 80.0%  0.50/s  0:10 ETA 0:14" in lines[0]
    assert lines[-1].endswith(
        "12/12  pass 7 fail 4 err 1  running 0  rate 63.6%  0.50/s  0:24 ETA 0:00"
    )
    assert lines[-1].startswith("[" + "#" * 20)
    assert all(len(line) <= 100 for line in lines)


def test_progress_bar_without_a_terminal_prints_a_line_per_trial_by_default() -> None:
    out = io.StringIO()
    bar = ProgressBar(out, tty=False, clock=FakeClock())
    bar.start(12)
    for trial in make_run().trials[:3]:
        bar.advance(trial)
    assert [line.split("  ")[0][-4:] for line in out.getvalue().splitlines()] == [
        "1/12",
        "2/12",
        "3/12",
    ]


def test_progress_bar_on_a_terminal_draws_in_place() -> None:
    out, clock = io.StringIO(), FakeClock()
    bar = ProgressBar(out, tty=True, clock=clock)
    trials = make_run().trials[3:7]  # P F P F
    bar.start(4)
    for trial in trials:
        clock.now += 1.0
        bar.advance(trial)
    bar.finish()
    text = out.getvalue()
    assert text.count("\r") == 6  # start, four trials, finish
    assert text.endswith("\n") and text.count("\n") == 1
    assert "4/4  pass 2 fail 2 err 0  running 0  rate 50.0%  1.00/s  0:04 ETA 0:00" in text
    assert bar.done == 4


def test_progress_bar_on_a_terminal_moves_its_clock_while_trials_run() -> None:
    out, clock = io.StringIO(), FakeClock()
    bar = ProgressBar(out, tty=True, clock=clock)
    bar.tick()  # before the run starts: nothing to draw
    assert out.getvalue() == ""
    bar.start(4)
    bar.begin("a", 0)
    bar.begin("b", 0)
    clock.now += 75.0
    bar.tick()  # no trial ended, yet the time and the trials in flight show
    assert (
        out.getvalue()
        .split("\r")[-1]
        .rstrip()
        .endswith("0/4  pass 0 fail 0 err 0  running 2  rate -  0.00/s  1:15 ETA -")
    )


def test_progress_bar_without_a_terminal_prints_a_line_after_a_quiet_minute() -> None:
    out, clock = io.StringIO(), FakeClock()
    bar = ProgressBar(out, tty=False, clock=clock)
    bar.start(4)
    bar.begin("a", 0)
    clock.now += 59.0
    bar.tick()
    assert out.getvalue() == ""  # a line a second would flood a log
    clock.now += 1.0
    bar.tick()
    bar.tick()
    assert out.getvalue().splitlines() == [
        "[" + "." * 34 + "] 0/4  pass 0 fail 0 err 0  running 1  rate -  0.00/s  1:00 ETA -"
    ]


def test_progress_bar_finish_prints_an_unfinished_count() -> None:
    out = io.StringIO()
    bar = ProgressBar(out, tty=False, every=10, clock=FakeClock())
    bar.start(12)
    for trial in make_run().trials[:3]:
        bar.advance(trial)
    bar.finish()
    assert out.getvalue().count("\n") == 1 and "3/12" in out.getvalue()


def test_json_report_has_summary_and_every_trial(tmp_path: Path) -> None:
    run = make_run()
    path = write_json_report(tmp_path / "out" / "report.json", run, prices=PRICES)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == REPORT_FORMAT
    overall = data["summary"]["overall"]
    assert (overall["passed"], overall["failed"], overall["errors"]) == (7, 4, 1)
    assert overall["success"]["rate"] == pytest.approx(7 / 11)
    assert overall["cost"] == pytest.approx(0.00936)
    assert [p["k"] for p in overall["pass_k"]] == [1, 2, 3]
    assert len(data["trials"]) == 12 and len(data["cases"]) == 4
    first = data["trials"][0]
    assert first["transcript"][0]["content"].startswith("do read-file <script>")
    assert data["summary"]["run"]["run_id"] == "run-a"
    assert json_report(run)["summary"]["currency"] is None


def test_summary_keeps_trials_of_cases_missing_from_the_case_list() -> None:
    run = make_run()
    stray = run.trials[0].model_copy(update={"case_id": "zzz-removed"})
    summary = summarize(run.model_copy(update={"trials": [*run.trials, stray]}))
    assert summary.cases[-1].case_id == "zzz-removed" and summary.cases[-1].tags == []
    assert summary.overall.passed == 8
