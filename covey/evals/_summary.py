"""A run's figures: overall, per case and per tag, computed once from its results.

Infrastructure errors (status "error": the model server was down, a server crashed) say
nothing about the agent, so they are counted apart and left out of every success rate,
pass@k, score and latency figure. Their tokens were still spent, so tokens and cost
count every trial.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict

from ._metrics import (
    LatencyStats,
    PassK,
    Proportion,
    Verdict,
    flakiness,
    latency_stats,
    mean_pass_k,
    wilson_interval,
)
from ._prices import PriceTable
from ._results import ProtocolStats, RunInfo, RunResults, TrialResult

__all__ = ["GroupStats", "CaseSummary", "TagSummary", "RunSummary", "summarize"]


class GroupStats(BaseModel):
    """Figures for a set of trials: a whole run, one case, or the cases with one tag."""

    model_config = ConfigDict(frozen=True)

    trials: int
    """Trials recorded, errors included."""
    passed: int
    """Trials whose scorers passed."""
    failed: int
    """Trials the agent failed (limits hit included)."""
    errors: int
    """Infrastructure errors, excluded from every rate."""
    success: Proportion | None
    """passed / (passed + failed) with its 95% Wilson interval; None if nothing counted."""
    mean_score: float | None
    """Mean trial score over passed and failed trials."""
    pass_k: list[PassK]
    """pass@k and pass^k for k = 1..trials per case, averaged over cases."""
    input_tokens: int
    """Prompt tokens over every trial."""
    output_tokens: int
    """Completion tokens over every trial."""
    cost: float | None
    """Cost of every trial's tokens; None without a price for every model used."""
    latency: LatencyStats | None
    """Trial wall-clock latency over passed and failed trials."""
    limit_hits: int
    """Trials stopped by a time, turn or token limit."""
    protocol: ProtocolStats
    """Tool-call figures summed over every trial."""

    def pass_hat(self, k: int) -> float | None:
        """pass^k for this group, or None if not computed for k."""
        return next((p.pass_hat_k for p in self.pass_k if p.k == k), None)

    def pass_at(self, k: int) -> float | None:
        """pass@k for this group, or None if not computed for k."""
        return next((p.pass_at_k for p in self.pass_k if p.k == k), None)


class CaseSummary(BaseModel):
    """One case's figures and flakiness verdict."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    tags: list[str]
    verdict: Verdict
    """"stable pass", "stable fail", "flaky" or "no data" over the counted trials."""
    stats: GroupStats


class TagSummary(BaseModel):
    """Figures over the cases carrying one tag."""

    model_config = ConfigDict(frozen=True)

    tag: str
    cases: int
    stats: GroupStats


class RunSummary(BaseModel):
    """Everything a report shows about one run."""

    model_config = ConfigDict(frozen=True)

    run: RunInfo
    overall: GroupStats
    cases: list[CaseSummary]
    tags: list[TagSummary]
    by_trial_index: list[Proportion | None]
    """Success rate of the i-th trial of every case: drift across repeats shows here."""
    ks: list[int]
    """The k values pass@k and pass^k were computed for."""
    currency: str | None
    """Currency of `cost` figures, None when no price table was given."""


def _trial_cost(trial: TrialResult, prices: PriceTable | None) -> float | None:
    if prices is None:
        return None
    return prices.cost(trial.model, trial.input_tokens, trial.output_tokens, name=trial.model_name)


def _sum_protocol(trials: Iterable[TrialResult]) -> ProtocolStats:
    totals = {name: 0 for name in ProtocolStats.model_fields}
    for trial in trials:
        for name in totals:
            totals[name] += getattr(trial.protocol, name)
    return ProtocolStats(**totals)


def _counts(trials: Sequence[TrialResult]) -> tuple[int, int]:
    counted = [t for t in trials if t.status != "error"]
    return len(counted), sum(t.status == "passed" for t in counted)


def _group(
    by_case: Sequence[Sequence[TrialResult]], ks: Sequence[int], prices: PriceTable | None
) -> GroupStats:
    trials = [t for case in by_case for t in case]
    counted = [t for t in trials if t.status != "error"]
    passed = sum(t.status == "passed" for t in counted)
    costs = [_trial_cost(t, prices) for t in trials]
    case_counts = [_counts(case) for case in by_case]
    return GroupStats(
        trials=len(trials),
        passed=passed,
        failed=len(counted) - passed,
        errors=len(trials) - len(counted),
        success=wilson_interval(passed, len(counted)) if counted else None,
        mean_score=math.fsum(t.score for t in counted) / len(counted) if counted else None,
        pass_k=[mean_pass_k(case_counts, k) for k in ks],
        input_tokens=sum(t.input_tokens for t in trials),
        output_tokens=sum(t.output_tokens for t in trials),
        cost=None if None in costs else math.fsum(c for c in costs if c is not None),
        latency=latency_stats([t.latency_s for t in counted]),
        limit_hits=sum(t.limit_hit is not None for t in trials),
        protocol=_sum_protocol(trials),
    )


def _by_trial_index(trials: Sequence[TrialResult], count: int) -> list[Proportion | None]:
    rates: list[Proportion | None] = []
    for index in range(count):
        counted = [t for t in trials if t.trial == index and t.status != "error"]
        passed = sum(t.status == "passed" for t in counted)
        rates.append(wilson_interval(passed, len(counted)) if counted else None)
    return rates


def summarize(results: RunResults, *, prices: PriceTable | None = None) -> RunSummary:
    """Compute a run's summary: overall, per case (in suite order) and per tag (by name).

    Args:
        results: The run, its cases and its recorded trials (finished or not).
        prices: Token prices; without them every cost is None.
    """
    by_case: dict[str, list[TrialResult]] = {case.id: [] for case in results.cases}
    tags_of = {case.id: list(case.tags) for case in results.cases}
    for trial in sorted(results.trials, key=lambda t: (t.case_id, t.trial)):
        by_case.setdefault(trial.case_id, []).append(trial)
    most = max((_counts(trials)[0] for trials in by_case.values()), default=0)
    ks = list(range(1, max(results.run.trials_per_case, most) + 1))
    cases: list[CaseSummary] = []
    for case_id, trials in by_case.items():
        n, c = _counts(trials)
        stats = _group([trials], [k for k in ks if k <= max(n, 1)], prices)
        cases.append(
            CaseSummary(
                case_id=case_id,
                tags=tags_of.get(case_id, []),
                verdict=flakiness(c, n),
                stats=stats,
            )
        )
    tags: list[TagSummary] = []
    for tag in sorted({tag for case_tags in tags_of.values() for tag in case_tags}):
        members = [ts for case_id, ts in by_case.items() if tag in tags_of.get(case_id, [])]
        tags.append(TagSummary(tag=tag, cases=len(members), stats=_group(members, ks, prices)))
    index_count = max((t.trial + 1 for t in results.trials), default=0)
    return RunSummary(
        run=results.run,
        overall=_group(list(by_case.values()), ks, prices),
        cases=cases,
        tags=tags,
        by_trial_index=_by_trial_index(results.trials, index_count),
        ks=ks,
        currency=prices.currency if prices is not None else None,
    )
