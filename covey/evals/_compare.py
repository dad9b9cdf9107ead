"""Comparing runs: two runs case by case with a significance test, or several side by side.

**The paired test.** Trials of one case are repeats, not pairs: trial 0 of run A has
nothing to do with trial 0 of run B, and repeats of one case are correlated. So the unit
of pairing is the *case*, and what is paired is each case's success rate in the two
runs (infrastructure errors left out). A case whose rate went up "improved", down
"regressed". Two exact tests are reported:

- `mcnemar_p`: the sign test on the improved/regressed counts, a two-sided binomial
  with p = 1/2. With one trial per case this *is* the exact McNemar test on the
  discordant pairs; with k trials it extends it without throwing away partial changes
  (as a per-case majority vote would: 1/5 -> 2/5 would count as no change).
- `permutation_p`: the exact sign-flip permutation test on the per-case rate
  differences, which also weighs how much each case moved.

Both assume cases are independent and say nothing about tasks outside the suite.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, ConfigDict

from . import _format as fmt
from ._metrics import Proportion, mcnemar_exact, paired_permutation_test, wilson_interval
from ._results import RunInfo, RunResults
from ._summary import RunSummary

__all__ = [
    "CaseChange",
    "PairedComparison",
    "compare_runs",
    "format_comparison",
    "format_side_by_side",
]


class CaseChange(BaseModel):
    """One case's success in both runs."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    a: Proportion
    """Success in the first run."""
    b: Proportion
    """Success in the second run."""
    change: Literal["improved", "regressed", "same"]

    @property
    def difference(self) -> float:
        """Rate in the second run minus rate in the first."""
        return self.b.rate - self.a.rate


class PairedComparison(BaseModel):
    """Run B against run A over the cases both ran."""

    model_config = ConfigDict(frozen=True)

    run_a: RunInfo
    run_b: RunInfo
    cases: list[CaseChange]
    """Every paired case, in run A's order."""
    only_in_a: list[str]
    """Cases with counted trials in A only."""
    only_in_b: list[str]
    """Cases with counted trials in B only."""
    success_a: Proportion | None
    """A's success over the paired cases."""
    success_b: Proportion | None
    """B's success over the paired cases."""
    mean_difference: float | None
    """Mean over paired cases of (rate in B - rate in A)."""
    mcnemar_p: float
    """Exact two-sided sign test on improved vs regressed cases (McNemar for 1 trial)."""
    permutation_p: float
    """Exact two-sided sign-flip permutation test on per-case rate differences."""

    @property
    def improved(self) -> list[CaseChange]:
        """Cases whose success rate went up."""
        return [c for c in self.cases if c.change == "improved"]

    @property
    def regressed(self) -> list[CaseChange]:
        """Cases whose success rate went down."""
        return [c for c in self.cases if c.change == "regressed"]


def _case_counts(results: RunResults) -> dict[str, tuple[int, int]]:
    counts: dict[str, tuple[int, int]] = {case.id: (0, 0) for case in results.cases}
    for trial in results.trials:
        n, c = counts.get(trial.case_id, (0, 0))
        if trial.status != "error":
            n, c = n + 1, c + (trial.status == "passed")
        counts[trial.case_id] = (n, c)
    return {case_id: nc for case_id, nc in counts.items() if nc[0] > 0}


def compare_runs(a: RunResults, b: RunResults) -> PairedComparison:
    """Pair run `b` against run `a` case by case (see the module notes for the tests)."""
    counts_a, counts_b = _case_counts(a), _case_counts(b)
    changes: list[CaseChange] = []
    differences: list[Fraction] = []
    for case_id, (na, ca) in counts_a.items():
        if case_id not in counts_b:
            continue
        nb, cb = counts_b[case_id]
        diff = Fraction(cb, nb) - Fraction(ca, na)
        change = "improved" if diff > 0 else "regressed" if diff < 0 else "same"
        changes.append(
            CaseChange(
                case_id=case_id,
                a=wilson_interval(ca, na),
                b=wilson_interval(cb, nb),
                change=change,
            )
        )
        differences.append(diff)
    improved = sum(c.change == "improved" for c in changes)
    regressed = sum(c.change == "regressed" for c in changes)

    def pooled(side: Literal["a", "b"]) -> Proportion | None:
        picked = [getattr(c, side) for c in changes]
        total = sum(p.total for p in picked)
        return wilson_interval(sum(p.successes for p in picked), total) if total else None

    return PairedComparison(
        run_a=a.run,
        run_b=b.run,
        cases=changes,
        only_in_a=[c for c in counts_a if c not in counts_b],
        only_in_b=[c for c in counts_b if c not in counts_a],
        success_a=pooled("a"),
        success_b=pooled("b"),
        mean_difference=float(sum(differences) / len(differences)) if differences else None,
        mcnemar_p=mcnemar_exact(improved, regressed),
        permutation_p=paired_permutation_test(differences),
    )


def _trial_counts(c: PairedComparison) -> list[str]:
    """A warning when the two runs rest on different numbers of trials."""
    k_a, k_b = c.run_a.trials_per_case, c.run_b.trials_per_case
    if k_a != k_b:
        return [
            f"Warning: A ran {k_a} trials per case and B {k_b}: each case's rate is compared, "
            "but the one with fewer trials is less certain."
        ]
    n_a = c.success_a.total if c.success_a else 0
    n_b = c.success_b.total if c.success_b else 0
    if n_a != n_b:
        return [
            f"Warning: A counts {n_a} trials of the paired cases and B {n_b} (unfinished "
            "trials or infrastructure errors): resume the shorter run for a like comparison."
        ]
    return []


def _distinct(ids: Sequence[str], width: int) -> list[str]:
    """Run ids cut to `width` so that they still differ: their shared start goes first."""
    if max(map(len, ids), default=0) <= width or len(set(ids)) < len(ids):
        return list(ids)
    first, last = min(ids), max(ids)
    pairs = enumerate(zip(first, last, strict=False))
    shared = next((i for i, (x, y) in pairs if x != y), len(first))
    shared = first.rfind("-", 0, shared) + 1  # cut between words: `~37813-v1`, not `~3-v1`
    cells = ["~" + run_id[shared:] for run_id in ids]
    return [cell if len(cell) <= width else cell[: width - 1] + "~" for cell in cells]


def format_comparison(comparison: PairedComparison, *, width: int = 100) -> str:
    """The paired comparison as plain text: headline, tests, and the cases that changed."""
    c = comparison
    diff = c.mean_difference
    lines = [
        f"A: {c.run_a.run_id} ({c.run_a.model})   B: {c.run_b.run_id} ({c.run_b.model})",
        f"{len(c.cases)} paired cases: {len(c.improved)} improved, {len(c.regressed)} "
        f"regressed, {len(c.cases) - len(c.improved) - len(c.regressed)} unchanged",
        f"Success A {fmt.percent(c.success_a.rate if c.success_a else None)}  "
        f"B {fmt.percent(c.success_b.rate if c.success_b else None)}  mean change per case "
        f"{'-' if diff is None else f'{diff * 100:+.1f} points'}",
        f"Exact McNemar/sign test p = {c.mcnemar_p:.4g}   permutation test p = "
        f"{c.permutation_p:.4g}",
    ]
    if c.run_a.suite != c.run_b.suite:
        lines.append(f"Note: different suites ({c.run_a.suite} vs {c.run_b.suite}).")
    if c.only_in_a or c.only_in_b:
        lines.append(
            f"Not paired: {len(c.only_in_a)} cases only in A, {len(c.only_in_b)} only in B."
        )
    lines += _trial_counts(c)
    changed = [x for x in c.cases if x.change != "same"]
    if changed:
        rows = [
            [
                x.case_id,
                x.change,
                f"{x.a.successes}/{x.a.total}",
                f"{x.b.successes}/{x.b.total}",
                f"{x.difference * 100:+.1f}",
            ]
            for x in sorted(changed, key=lambda x: (x.difference, x.case_id))
        ]
        lines += [
            "",
            *fmt.table(
                ["case", "change", "A", "B", "points"],
                rows,
                align=["<", "<", ">", ">", ">"],
                width=width,
            ),
        ]
    return "\n".join(lines)


def format_side_by_side(summaries: Sequence[RunSummary], *, width: int = 100) -> str:
    """Several runs (say, models on one suite) side by side, one row each.

    pass^k uses the largest k every run supports, so the column compares like with like.
    """
    k = min((s.ks[-1] for s in summaries if s.ks), default=1)
    rows: list[list[str]] = []
    for s in summaries:
        o, lat = s.overall, s.overall.latency
        rows.append(
            [
                s.run.model,
                s.run.run_id,
                fmt.percent(o.success.rate if o.success else None),
                fmt.interval(o.success),
                fmt.percent(o.pass_hat(k)),
                fmt.count(o.input_tokens + o.output_tokens),
                fmt.seconds(lat.p50 if lat else None),
                fmt.seconds(lat.p95 if lat else None),
                fmt.money(o.cost, s.currency),
            ]
        )
    headers = ["model", "run", "success", "95% CI %", f"pass^{k}", "tokens", "p50 s", "p95 s"]
    align: list[fmt.Align] = ["<", "<", ">", ">", ">", ">", ">", ">", ">"]
    suites = sorted({s.run.suite for s in summaries})
    title = f"Suite {', '.join(suites)}: {len(summaries)} runs (pass^{k}: all {k} trials pass)"
    headers.append("cost")
    others = sum(max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers) if i != 1)
    room = width - others - 2 * (len(headers) - 1)  # what the run column can have
    for row, run_id in zip(rows, _distinct([r[1] for r in rows], max(room, 12)), strict=True):
        row[1] = run_id
    table = fmt.table(headers, rows, align=align, width=width, flexible=1)
    notes: list[str] = []
    if len({s.run.trials_per_case for s in summaries}) > 1:
        each = ", ".join(f"{s.run.run_id} {s.run.trials_per_case}" for s in summaries)
        notes.append(f"Warning: the runs have different trials per case ({each}).")
    return "\n".join([title, *table, *notes])  # long run ids give way to the model labels
