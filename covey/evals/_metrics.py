"""Pure statistics for eval results: rates with intervals, pass@k, percentiles, paired tests.

Everything here works on plain counts and numbers (standard library only), so each figure a
report shows can be checked by hand. The choices, in one place:

- **Success rate interval**: the Wilson score interval. Unlike the normal ("Wald")
  interval it never leaves [0, 1] and keeps close to its nominal 95% coverage at the small
  trial counts and extreme rates evals produce (0 of 5 still gets a non-empty interval).
  It treats trials as independent draws; with several trials per case they are not quite,
  so read it as the uncertainty of this case set, not of every task the suite stands for.
- **pass@k** and **pass^k**: the unbiased estimators from n trials with c successes,
  ``1 - C(n-c, k) / C(n, k)`` (at least one of k fresh trials succeeds) and
  ``C(c, k) / C(n, k)`` (all k succeed). They need k <= n; asking for more raises
  `UsageError`, and averages over cases leave such cases out and say how many were used.
- **Percentiles**: linear interpolation between closest ranks (Hyndman and Fan type 7,
  NumPy's and the spreadsheet default), so p50 of an even count is the midpoint.
- **Paired comparison**: see `mcnemar_exact` and `paired_permutation_test`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from fractions import Fraction
from statistics import NormalDist
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .._errors import UsageError

__all__ = [
    "Proportion",
    "wilson_interval",
    "pass_at_k",
    "pass_hat_k",
    "PassK",
    "mean_pass_k",
    "percentile",
    "LatencyStats",
    "latency_stats",
    "Verdict",
    "flakiness",
    "mcnemar_exact",
    "paired_permutation_test",
]


class Proportion(BaseModel):
    """A success rate with its confidence interval."""

    model_config = ConfigDict(frozen=True)

    successes: int
    """Trials that passed."""
    total: int
    """Trials counted (infrastructure errors are not)."""
    rate: float
    """successes / total."""
    low: float
    """Lower end of the interval."""
    high: float
    """Upper end of the interval."""
    confidence: float = 0.95
    """Confidence level of the interval."""


def wilson_interval(successes: int, total: int, *, confidence: float = 0.95) -> Proportion:
    """The success rate and its Wilson score interval.

    Args:
        successes: Trials that passed, 0 <= successes <= total.
        total: Trials counted, at least 1.
        confidence: Two-sided confidence level, strictly between 0 and 1.

    Raises:
        UsageError: counts out of range, or a confidence level outside (0, 1).
    """
    if total < 1 or not 0 <= successes <= total:
        raise UsageError(
            f"A success rate needs 0 <= successes <= total and total >= 1, got "
            f"{successes} of {total}."
        )
    if not 0 < confidence < 1:
        raise UsageError(f"Confidence must be between 0 and 1, got {confidence!r}.")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / total
    z2n = z * z / total
    center = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / total + z2n / (4 * total))
    low = 0.0 if successes == 0 else max(0.0, center - half)
    high = 1.0 if successes == total else min(1.0, center + half)
    return Proportion(
        successes=successes, total=total, rate=p, low=low, high=high, confidence=confidence
    )


def _check_k(n: int, c: int, k: int) -> None:
    if not 0 <= c <= n:
        raise UsageError(f"Successes must be between 0 and the trial count {n}, got {c}.")
    if k < 1:
        raise UsageError(f"k must be at least 1, got {k}.")
    if k > n:
        raise UsageError(
            f"pass@k and pass^k need at least k trials: k={k} but only {n} trials. "
            f"Run with --trials {k} or more, or ask for a smaller k."
        )


def pass_at_k(n: int, c: int, k: int) -> float:
    """Chance that at least one of k trials succeeds: 1 - C(n-c, k) / C(n, k).

    Args:
        n: Trials run for the case.
        c: Trials that succeeded.
        k: Trials drawn, 1 <= k <= n.

    Raises:
        UsageError: k > n, k < 1, or c outside 0..n.
    """
    _check_k(n, c, k)
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """Chance that all of k trials succeed (pass^k): C(c, k) / C(n, k).

    Args:
        n: Trials run for the case.
        c: Trials that succeeded.
        k: Trials drawn, 1 <= k <= n.

    Raises:
        UsageError: k > n, k < 1, or c outside 0..n.
    """
    _check_k(n, c, k)
    return math.comb(c, k) / math.comb(n, k)


class PassK(BaseModel):
    """pass@k and pass^k for one k, averaged over the cases that had at least k trials."""

    model_config = ConfigDict(frozen=True)

    k: int
    """Trials drawn."""
    pass_at_k: float | None
    """Mean pass@k over the cases used; None when no case had k trials."""
    pass_hat_k: float | None
    """Mean pass^k over the cases used; None when no case had k trials."""
    cases: int
    """Cases averaged over."""
    skipped: int
    """Cases left out for having fewer than k counted trials."""


def mean_pass_k(counts: Iterable[tuple[int, int]], k: int) -> PassK:
    """Average pass@k and pass^k over cases given as (trials, successes) pairs.

    A case with fewer than k counted trials (for instance after infrastructure errors) has
    no unbiased estimate; it is left out and counted in `PassK.skipped`.
    """
    if k < 1:
        raise UsageError(f"k must be at least 1, got {k}.")
    at: list[float] = []
    hat: list[float] = []
    skipped = 0
    for n, c in counts:
        if n < k:
            skipped += 1
            continue
        at.append(pass_at_k(n, c, k))
        hat.append(pass_hat_k(n, c, k))
    if not at:
        return PassK(k=k, pass_at_k=None, pass_hat_k=None, cases=0, skipped=skipped)
    return PassK(
        k=k,
        pass_at_k=math.fsum(at) / len(at),
        pass_hat_k=math.fsum(hat) / len(hat),
        cases=len(at),
        skipped=skipped,
    )


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks.

    Raises:
        UsageError: no values, or q outside 0..100.
    """
    if not values:
        raise UsageError("A percentile needs at least one value, got none.")
    if not 0 <= q <= 100:
        raise UsageError(f"Percentile must be between 0 and 100, got {q!r}.")
    ordered = sorted(values)
    h = (len(ordered) - 1) * q / 100
    lo = math.floor(h)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (h - lo) * (ordered[hi] - ordered[lo])


class LatencyStats(BaseModel):
    """Latency figures in seconds (percentiles by linear interpolation)."""

    model_config = ConfigDict(frozen=True)

    count: int
    mean: float
    p50: float
    p90: float
    p95: float
    p99: float
    max: float


def latency_stats(values: Sequence[float]) -> LatencyStats | None:
    """Mean, p50/p90/p95/p99 and max of `values`, or None when there are none."""
    if not values:
        return None
    return LatencyStats(
        count=len(values),
        mean=math.fsum(values) / len(values),
        p50=percentile(values, 50),
        p90=percentile(values, 90),
        p95=percentile(values, 95),
        p99=percentile(values, 99),
        max=max(values),
    )


Verdict = Literal["stable pass", "stable fail", "flaky", "no data"]
"""How a case behaves across its trials."""


def flakiness(successes: int, total: int) -> Verdict:
    """The case's verdict: every trial passed, every trial failed, some of each, or none ran.

    A case that passes only sometimes is "flaky" however rare the odd outcome: one
    failure in a hundred is still a failure a user will meet.
    """
    if total == 0:
        return "no data"
    if successes == total:
        return "stable pass"
    if successes == 0:
        return "stable fail"
    return "flaky"


def mcnemar_exact(improved: int, regressed: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pair counts.

    Under "no difference between the runs", each discordant pair is as likely to go
    either way, so the smaller count is binomial(improved + regressed, 1/2); the p-value
    doubles its tail, capped at 1. With no discordant pairs it is 1.

    Raises:
        UsageError: a negative count.
    """
    if improved < 0 or regressed < 0:
        raise UsageError(f"Discordant counts must be >= 0, got {improved} and {regressed}.")
    m = improved + regressed
    if m == 0:
        return 1.0
    tail = sum(math.comb(m, i) for i in range(min(improved, regressed) + 1))
    return min(1.0, float(Fraction(2 * tail, 2**m)))


def paired_permutation_test(differences: Sequence[Fraction | int]) -> float:
    """Exact two-sided sign-flip permutation p-value for paired differences.

    Under "no difference", each pair's difference is as likely to have either sign; the
    p-value is the share of the 2^m sign assignments whose absolute sum is at least the
    observed one. The distribution is built exactly by counting sums, which stays small
    for differences of success rates (few distinct denominators). Zero differences
    contribute nothing either way.
    """
    nonzero = [Fraction(d) for d in differences if d != 0]
    if not nonzero:
        return 1.0
    observed = abs(sum(nonzero, Fraction(0)))
    counts: dict[Fraction, int] = {Fraction(0): 1}
    for d in nonzero:
        step: dict[Fraction, int] = {}
        for total, ways in counts.items():
            for signed in (total + d, total - d):
                step[signed] = step.get(signed, 0) + ways
        counts = step
    extreme = sum(ways for total, ways in counts.items() if abs(total) >= observed)
    return float(Fraction(extreme, 2 ** len(nonzero)))
