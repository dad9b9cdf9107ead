"""Metrics against values computed by hand (see each test's arithmetic)."""

from __future__ import annotations

import itertools
import json
import math
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from covey import UsageError
from covey.evals._metrics import (
    flakiness,
    latency_stats,
    mcnemar_exact,
    mean_pass_k,
    paired_permutation_test,
    pass_at_k,
    pass_hat_k,
    percentile,
    wilson_interval,
)
from covey.evals._prices import PriceTable


@pytest.mark.parametrize(
    ("n", "c", "k", "at", "hat"),
    [
        # k = 1: both are the plain success rate.
        (10, 3, 1, 0.3, 0.3),
        # 1 - C(3,2)/C(5,2) = 1 - 3/10; C(2,2)/C(5,2) = 1/10.
        (5, 2, 2, 0.7, 0.1),
        # 1 - C(7,5)/C(10,5) = 1 - 21/252 = 11/12; C(3,5) = 0.
        (10, 3, 5, 11 / 12, 0.0),
        # 1 - C(3,3)/C(10,3) = 1 - 1/120; C(7,3)/C(10,3) = 35/120.
        (10, 7, 3, 119 / 120, 35 / 120),
        # fewer failures than k: some success is certain. C(3,2)/C(4,2) = 3/6.
        (4, 3, 2, 1.0, 0.5),
        # k = n: pass@n is "any success", pass^n is "all succeed".
        (3, 1, 3, 1.0, 0.0),
        (3, 3, 3, 1.0, 1.0),
        (6, 0, 4, 0.0, 0.0),
    ],
)
def test_pass_at_k_and_pass_hat_k(n: int, c: int, k: int, at: float, hat: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(at, abs=1e-12)
    assert pass_hat_k(n, c, k) == pytest.approx(hat, abs=1e-12)


@pytest.mark.parametrize(("n", "c", "k"), [(3, 1, 4), (3, 1, 0), (3, 4, 1), (3, -1, 1)])
def test_pass_k_rejects_impossible_arguments(n: int, c: int, k: int) -> None:
    with pytest.raises(UsageError):
        pass_at_k(n, c, k)
    with pytest.raises(UsageError):
        pass_hat_k(n, c, k)


def test_k_larger_than_trials_says_how_to_fix() -> None:
    with pytest.raises(UsageError, match=r"k=5 but only 3 trials.*--trials 5"):
        pass_hat_k(3, 2, 5)


def test_mean_pass_k_averages_cases_and_skips_short_ones() -> None:
    # Cases (5, 2) and (4, 3) at k=2: pass@2 = (0.7 + 1.0) / 2, pass^2 = (0.1 + 0.5) / 2.
    result = mean_pass_k([(5, 2), (4, 3), (1, 1)], 2)
    assert result.pass_at_k == pytest.approx(0.85)
    assert result.pass_hat_k == pytest.approx(0.3)
    assert (result.cases, result.skipped) == (2, 1)
    empty = mean_pass_k([(1, 0)], 3)
    assert empty.pass_at_k is None and empty.pass_hat_k is None and empty.skipped == 1


def _wilson_by_hand(c: int, n: int) -> tuple[float, float]:
    z = 1.959963984540054  # the 97.5% normal quantile
    p = c / n
    center = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return center - half, center + half


@pytest.mark.parametrize(("c", "n"), [(8, 10), (1, 3), (50, 100), (7, 9)])
def test_wilson_interval_matches_the_formula(c: int, n: int) -> None:
    low, high = _wilson_by_hand(c, n)
    interval = wilson_interval(c, n)
    assert interval.rate == c / n
    assert interval.low == pytest.approx(low, abs=1e-12)
    assert interval.high == pytest.approx(high, abs=1e-12)


def test_wilson_interval_known_values_and_edges() -> None:
    # Published values: 8/10 -> [0.4902, 0.9433]; 0/10 -> [0, z^2/(n+z^2)] = [0, 0.2775].
    eight = wilson_interval(8, 10)
    assert (round(eight.low, 4), round(eight.high, 4)) == (0.4902, 0.9433)
    zero = wilson_interval(0, 10)
    assert zero.low == 0.0 and round(zero.high, 4) == 0.2775
    full = wilson_interval(10, 10)
    assert full.high == 1.0 and round(full.low, 4) == round(1 - 0.2775, 4)
    assert wilson_interval(8, 10, confidence=0.99).low < eight.low
    with pytest.raises(UsageError):
        wilson_interval(0, 0)
    with pytest.raises(UsageError):
        wilson_interval(3, 2)


@pytest.mark.parametrize(
    ("improved", "regressed", "p"),
    [
        (1, 9, 22 / 1024),  # 2 * (C(10,0) + C(10,1)) / 2^10
        (2, 8, 112 / 1024),  # 2 * (1 + 10 + 45) / 2^10
        (0, 5, 2 / 32),
        (5, 0, 2 / 32),
        (3, 3, 1.0),  # doubled tail exceeds 1: capped
        (0, 0, 1.0),
        (0, 1, 1.0),
    ],
)
def test_mcnemar_exact_p_values(improved: int, regressed: int, p: float) -> None:
    assert mcnemar_exact(improved, regressed) == pytest.approx(p, abs=1e-15)


def test_paired_permutation_test_by_enumeration() -> None:
    # [1, 1, 1]: sums +-3 once each, +-1 three times each: P(|S| >= 3) = 2/8.
    assert paired_permutation_test([1, 1, 1]) == 0.25
    # [1, 1/2, -1/2]: sums 0, 1, 1, 2, -2, -1, -1, 0: P(|S| >= 1) = 6/8.
    assert paired_permutation_test([1, Fraction(1, 2), Fraction(-1, 2)]) == 0.75
    # Zeros do not count; nothing changed means p = 1.
    assert paired_permutation_test([0, 0]) == 1.0
    assert paired_permutation_test([1, 0, 1, 1, 0, 1, 1]) == 2 / 32
    # Ten cases all improving by 1/3: only the two all-same-sign assignments reach 10/3.
    assert paired_permutation_test([Fraction(1, 3)] * 10) == pytest.approx(2 / 1024)


def test_percentiles_interpolate_linearly() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 90) == pytest.approx(3.7)  # 3 + 0.7 * (4 - 3)
    assert percentile([10.0, 20.0, 30.0, 40.0, 50.0], 95) == pytest.approx(48.0)
    assert percentile([7.0], 99) == 7.0
    assert percentile([1.0, 2.0], 0) == 1.0 and percentile([1.0, 2.0], 100) == 2.0
    with pytest.raises(UsageError):
        percentile([], 50)
    with pytest.raises(UsageError):
        percentile([1.0], 101)
    stats = latency_stats([1.0, 2.0, 3.0, 4.0])
    assert stats is not None
    assert (stats.count, stats.mean, stats.p50, stats.max) == (4, 2.5, 2.5, 4.0)
    assert stats.p99 == pytest.approx(3.97)
    assert latency_stats([]) is None


def test_flakiness_verdicts() -> None:
    assert flakiness(5, 5) == "stable pass"
    assert flakiness(0, 5) == "stable fail"
    assert flakiness(1, 5) == "flaky"
    assert flakiness(0, 0) == "no data"


def test_price_table_from_mapping_and_files(tmp_path: Path) -> None:
    table = PriceTable.from_mapping({"qwen3-8b": {"input": 0.05, "output": 0.25}})
    # 1M input * 0.05 + 0.2M output * 0.25 = 0.05 + 0.05.
    assert table.cost("qwen3-8b", 1_000_000, 200_000) == pytest.approx(0.1)
    assert table.cost("http://localhost:8000/v1#qwen3-8b", 2_000_000, 0) == pytest.approx(0.1)
    # The labels covey eval records: name@url and embedded:name.
    assert table.cost("qwen3-8b@http://localhost:8000/v1", 2_000_000, 0) == pytest.approx(0.1)
    assert table.cost("embedded:qwen3-8b", 2_000_000, 0) == pytest.approx(0.1)
    assert table.cost("my label", 2_000_000, 0, name="qwen3-8b") == pytest.approx(0.1)
    assert table.cost("unknown", 10, 10) is None

    as_json = tmp_path / "prices.json"
    as_json.write_text(json.dumps({"currency": "EUR", "models": {"m": {"input": 1, "output": 2}}}))
    loaded = PriceTable.from_file(as_json)
    assert loaded.currency == "EUR" and loaded.cost("m", 500_000, 500_000) == pytest.approx(1.5)

    as_yaml = tmp_path / "prices.yaml"
    as_yaml.write_text("m:\n  input: 3\n  output: 4\n")
    assert PriceTable.from_file(as_yaml).cost("m", 1_000_000, 1_000_000) == pytest.approx(7.0)

    with pytest.raises(UsageError, match="price table"):
        PriceTable.from_mapping({"m": {"input": -1, "output": 2}})
    with pytest.raises(UsageError, match="Cannot read"):
        PriceTable.from_file(tmp_path / "missing.json")


@given(n=st.integers(1, 9), data=st.data())
def test_pass_k_equal_the_share_of_k_subsets_by_enumeration(n: int, data: st.DataObject) -> None:
    # pass@k is the share of k-subsets of the n trials with some success; pass^k with all.
    c = data.draw(st.integers(0, n))
    k = data.draw(st.integers(1, n))
    outcomes = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(outcomes, k))
    assert pass_at_k(n, c, k) == pytest.approx(sum(map(any, subsets)) / len(subsets))
    assert pass_hat_k(n, c, k) == pytest.approx(sum(map(all, subsets)) / len(subsets))


@given(c=st.integers(0, 200), extra=st.integers(0, 200))
def test_wilson_interval_holds_the_rate_inside_zero_one(c: int, extra: int) -> None:
    n = c + extra
    if n == 0:
        return
    interval = wilson_interval(c, n)
    assert 0.0 <= interval.low <= interval.rate <= interval.high <= 1.0


@given(st.lists(st.sampled_from([-1, 1]), max_size=14))
def test_permutation_test_on_single_trials_is_mcnemar(signs: list[int]) -> None:
    # With one trial per case every change is +-1: the permutation and sign tests agree.
    improved, regressed = signs.count(1), signs.count(-1)
    assert paired_permutation_test(signs) == pytest.approx(mcnemar_exact(improved, regressed))
