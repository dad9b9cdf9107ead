"""Paired comparison of two runs, and several runs side by side."""

from __future__ import annotations

import pytest

from covey.evals._compare import compare_runs, format_comparison, format_side_by_side
from covey.evals._metrics import wilson_interval
from covey.evals._prices import PriceTable
from covey.evals._results import RunResults
from covey.evals._summary import summarize

from .report_data import OUTCOMES, make_run

B_OUTCOMES = {
    "read-file": (["files", "easy"], "PPF"),  # 3/3 -> 2/3 regressed
    "sum-rows": (["sql"], "PPP"),  # 2/3 -> 3/3 improved
    "recall-fact": (["memory"], "PFF"),  # 0/3 -> 1/3 improved
    "convert-time": (["time", "easy"], "PPP"),  # 2/2 -> 3/3 same rate
    "extra": (["new"], "PPP"),  # only in B
}


def test_paired_comparison_finds_the_changed_cases() -> None:
    a, b = make_run("run-a"), make_run("run-b", B_OUTCOMES)
    result = compare_runs(a, b)
    assert [c.case_id for c in result.improved] == ["sum-rows", "recall-fact"]
    assert [c.case_id for c in result.regressed] == ["read-file"]
    same = next(c for c in result.cases if c.case_id == "convert-time")
    assert same.change == "same" and (same.a.total, same.b.total) == (2, 3)
    assert result.only_in_b == ["extra"] and result.only_in_a == []
    # Per-case differences -1/3, +1/3, +1/3, 0: mean 1/12.
    assert result.mean_difference == pytest.approx(1 / 12)
    assert result.success_a == wilson_interval(7, 11)
    assert result.success_b == wilson_interval(9, 12)
    # Two up, one down: 2 * (C(3,0) + C(3,1)) / 8 capped at 1; every sign flip reaches 1/3.
    assert result.mcnemar_p == 1.0 and result.permutation_p == 1.0


def test_paired_comparison_significance_with_one_trial_per_case() -> None:
    # Ten cases, one trial each: A fails all; B passes nine. Exact McNemar: 2 / 2^9.
    a = make_run("a", {f"c{i}": ([], "F") for i in range(10)})
    b = make_run("b", {f"c{i}": ([], "P" if i < 9 else "F") for i in range(10)})
    result = compare_runs(a, b)
    assert len(result.improved) == 9 and not result.regressed
    assert result.mcnemar_p == pytest.approx(2 / 512)
    assert result.permutation_p == pytest.approx(2 / 512)
    reverse = compare_runs(b, a)
    assert len(reverse.regressed) == 9 and reverse.mcnemar_p == result.mcnemar_p


def test_errors_are_not_paired_outcomes() -> None:
    # A case whose trials all errored in one run has no rate there: it is not paired.
    a = make_run("a", {"x": ([], "EE"), "y": ([], "PP")})
    b = make_run("b", {"x": ([], "PP"), "y": ([], "PE")})
    result = compare_runs(a, b)
    assert [c.case_id for c in result.cases] == ["y"]
    assert result.only_in_b == ["x"] and result.cases[0].change == "same"


def test_comparison_text_lists_changes_and_tests() -> None:
    result = compare_runs(make_run("run-a"), make_run("run-b", B_OUTCOMES))
    text = format_comparison(result)
    assert "4 paired cases: 2 improved, 1 regressed, 1 unchanged" in text
    assert "Exact McNemar/sign test p = 1   permutation test p = 1" in text
    assert "mean change per case +8.3 points" in text
    assert "Not paired: 0 cases only in A, 1 only in B." in text
    rows = [line.split() for line in text.splitlines()]
    assert ["read-file", "regressed", "3/3", "2/3", "-33.3"] in rows
    assert ["sum-rows", "improved", "2/3", "3/3", "+33.3"] in rows
    assert not any(row and row[0] == "convert-time" for row in rows)


def test_side_by_side_compares_models_on_one_suite() -> None:
    prices = PriceTable.from_mapping({"tiny": {"input": 1.0, "output": 2.0}})
    a = summarize(make_run("run-a"), prices=prices)
    small = make_run("run-s", {k: v for k, v in OUTCOMES.items() if k != "convert-time"})
    big = "http://other/v1#big"
    small = small.model_copy(
        update={
            "run": small.run.model_copy(update={"model": big}),
            "trials": [t.model_copy(update={"model": big}) for t in small.trials],
        }
    )
    b = summarize(small, prices=prices)
    text = format_side_by_side([a, b])
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert lines[0] == "Suite demo: 2 runs (pass^3: all 3 trials pass)"
    assert lines[1].split() == [
        "model",
        "run",
        "success",
        "95%",
        "CI",
        "%",
        "pass^3",
        "tokens",
        "p50",
        "s",
        "p95",
        "s",
        "cost",
    ]
    row_a = lines[3].split()
    assert row_a[:7] == [
        "http://127.0.0.1:8000/v1#tiny",
        "run-a",
        "63.6%",
        "35.4-84.8",
        "33.3%",
        "8,580",
        "3.00",
    ]
    assert row_a[-2:] == ["0.0094", "USD"]
    row_b = lines[4].split()
    # No price for "big": cost unknown, not zero. 5/9 passed.
    assert row_b[:3] == ["http://other/v1#big", "run-s", "55.6%"] and row_b[-1] == "-"


def _renamed(run_id: str, model: str, outcomes: dict[str, tuple[list[str], str]]) -> RunResults:
    run = make_run(run_id, outcomes)
    return run.model_copy(update={"run": run.run.model_copy(update={"model": model})})


def test_side_by_side_keeps_long_run_ids_that_differ_in_the_middle_apart() -> None:
    ids = [f"builtin-scripted-http-127.0.0.1-3781{n}-v1-k3-d8fa225d" for n in (3, 4)]
    runs = [
        _renamed(i, f"scripted@http://127.0.0.1:3781{n}/v1", OUTCOMES)
        for i, n in zip(ids, (3, 4), strict=True)
    ]
    lines = format_side_by_side([summarize(r) for r in runs]).splitlines()
    assert max(len(line) for line in lines) <= 100
    cells = [line.split()[1] for line in lines[3:5]]
    # The shared start goes first: cut at the end, both would read `builtin-~`.
    assert cells == ["~37813-~", "~37814-~"]


def test_runs_with_different_trial_counts_are_compared_with_a_warning() -> None:
    one = {case: (tags, letters[0]) for case, (tags, letters) in OUTCOMES.items()}
    a, b = make_run("run-a"), make_run("run-b", one)
    paired = format_comparison(compare_runs(a, b))
    assert (
        "Warning: A ran 3 trials per case and B 1: each case's rate is compared, but the one "
        "with fewer trials is less certain."
    ) in paired.splitlines()
    side = format_side_by_side([summarize(a), summarize(b)]).splitlines()
    assert side[-1] == "Warning: the runs have different trials per case (run-a 3, run-b 1)."
    # Same k, but A has an infrastructure error where B has a counted trial.
    uneven = format_comparison(compare_runs(a, make_run("run-b", B_OUTCOMES)))
    assert "Warning: A counts 11 trials of the paired cases and B 12 (unfinished" in uneven
    same = format_comparison(compare_runs(a, make_run("run-c")))
    assert "Warning" not in same
