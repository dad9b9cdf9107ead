"""Checking a suite against itself: its solutions must pass, its mistakes must fail.

Both are replayed by covey's scripted model server through the real runner (fresh worlds,
real server processes), so a check proves each case can be passed and that every one of its
scorers fails in at least one of its mistakes (`mistake`, then any `mistakes`): no scorer
that can never fail. A mistake that ends in an infrastructure error proves nothing. A case
with a solution and no mistake passes the check with a note: only its solution is proved.
A mistake marked `passes_because` must pass instead, and the check shows the reason. Each
case talks to the scripted model at its own URL, so cases sharing a task replay apart.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from ..store import Store
from ._case import Case, Suite
from ._oracle import replay_policy
from ._report_terminal import Progress
from ._results import RunResults, TrialResult
from ._runner import EvalOptions, run_eval
from ._scripted import scripted_endpoint

__all__ = ["SuiteCheck", "check_suite", "format_check"]


class SuiteCheck(BaseModel):
    """What replaying a suite's solutions and mistakes showed."""

    suite: str
    cases: int
    solution_failed: dict[str, str] = Field(default_factory=dict[str, str])
    """Case id -> why its solution did not pass (the case or its scorers are wrong)."""
    mistake_passed: list[str] = Field(default_factory=list[str])
    """Cases whose mistake passed: their scorers cannot catch it."""
    mistake_errored: dict[str, str] = Field(default_factory=dict[str, str])
    """Case id -> the infrastructure error a mistake ended in: it proves nothing caught."""
    scorers_never_failed: dict[str, list[str]] = Field(default_factory=dict[str, list[str]])
    """Case id -> its scorers that no mistake failed: nothing shows they can fail."""
    unchecked: list[str] = Field(default_factory=list[str])
    """Cases without a solution: nothing shows they can be passed."""
    no_mistake: list[str] = Field(default_factory=list[str])
    """Cases with a solution and no mistake that must fail: their solution is checked, but
    nothing shows their scorers can fail. A note, not a failure."""
    passed_as_expected: dict[str, str] = Field(default_factory=dict[str, str])
    """Mistakes marked `passes_because` that passed -> the reason given. A note."""
    expected_pass_failed: dict[str, str] = Field(default_factory=dict[str, str])
    """Mistakes marked `passes_because` that failed -> why: the mark is wrong."""

    @property
    def ok(self) -> bool:
        """Every solution passes and every scorer of a case with mistakes fails in one."""
        return not (
            self.solution_failed
            or self.mistake_passed
            or self.expected_pass_failed
            or self.mistake_errored
            or self.scorers_never_failed
            or self.unchecked
        )


def scorer_label(names: list[str], index: int) -> str:
    """A case's scorer as reports name it: `number`, or `contains #2` when names repeat."""
    name = names[index]
    return name if names.count(name) == 1 else f"{name} #{index + 1}"


@dataclass(kw_only=True, slots=True, frozen=True)
class _Replays:
    store: Store
    concurrency: int
    progress: Progress | None


async def _replay(
    suite: Suite, which: Literal["solution", "mistake"], replays: _Replays, run: str
) -> RunResults:
    async with scripted_endpoint(replay_policy(suite, which)) as endpoint:
        options = EvalOptions(
            concurrency=replays.concurrency, attempts=1, case_model=endpoint.for_case
        )
        return await run_eval(
            suite,
            endpoint.model,
            store=replays.store,
            run_id=f"check-{run}",
            label=f"{which} replay",
            options=options,
            progress=replays.progress,
        )


def _why(trial_scores: list[tuple[str, str]]) -> str:
    return "; ".join(f"{name}: {why}" for name, why in trial_scores) or "no score"


def _variants(suite: Suite) -> list[Suite]:
    """The suite once per mistake variant: round i replays each case's i-th mistake."""
    rounds: list[Suite] = []
    for index in range(max(len(c.all_mistakes()) for c in suite.cases)):
        cases = [
            c.model_copy(update={"mistake": c.all_mistakes()[index]})
            for c in suite.cases
            if len(c.all_mistakes()) > index
        ]
        rounds.append(suite.model_copy(update={"cases": cases}))
    return rounds


def _must_fail(case: Case) -> bool:
    """Whether a case has a mistake its scorers must catch (not one expected to pass)."""
    return any(m.passes_because is None for m in case.all_mistakes())


def _record(check: SuiteCheck, trial: TrialResult, where: str, expected: str | None) -> bool:
    """Note what one mistake did; whether its failed scorers prove they can fail."""
    if trial.status == "error":
        check.mistake_errored[where] = trial.error or "no reason recorded"
    elif expected is not None and trial.status == "passed":
        check.passed_as_expected[where] = expected
    elif expected is not None:
        failing = [(s.name, s.explanation) for s in trial.scores if not s.passed]
        check.expected_pass_failed[where] = f"{_why(failing)}; it was to pass as {expected!r}"
    elif trial.status == "passed":
        check.mistake_passed.append(where)
    return expected is None


async def _check_mistakes(check: SuiteCheck, suite: Suite, replays: _Replays) -> None:
    failed: dict[str, set[int]] = {c.id: set() for c in suite.cases if _must_fail(c)}
    cases = {case.id: case for case in suite.cases}
    for index, variant in enumerate(_variants(suite)):
        run = await _replay(variant, "mistake", replays, f"mistake-{index + 1}")
        for trial in run.trials:
            where = trial.case_id if index == 0 else f"{trial.case_id} (mistake {index + 1})"
            expected = cases[trial.case_id].all_mistakes()[index].passes_because
            if _record(check, trial, where, expected):
                failed[trial.case_id] |= {i for i, s in enumerate(trial.scores) if not s.passed}
    for case in suite.cases:
        if case.id not in failed:
            continue
        names = [scorer.name for scorer in suite.scorers_for(case)]
        never = [scorer_label(names, i) for i in range(len(names)) if i not in failed[case.id]]
        if never:
            check.scorers_never_failed[case.id] = never


async def check_suite(
    suite: Suite, *, concurrency: int = 4, progress: Progress | None = None
) -> SuiteCheck:
    """Replay every case's solution and mistakes; see `SuiteCheck` for what is reported.

    `progress` hears of each replay (the solutions, then each round of mistakes) as a run.
    """
    check = SuiteCheck(suite=suite.name, cases=len(suite.cases))
    check.unchecked = [c.id for c in suite.cases if c.solution is None]
    check.no_mistake = [c.id for c in suite.cases if c.solution and not _must_fail(c)]
    solved = [c for c in suite.cases if c.solution]
    with tempfile.TemporaryDirectory(prefix="covey-check-") as tmp:
        async with Store(f"sqlite:///{Path(tmp) / 'check.db'}") as store:
            replays = _Replays(store=store, concurrency=concurrency, progress=progress)
            if solved:
                subset = suite.model_copy(update={"cases": solved})
                run = await _replay(subset, "solution", replays, "solution")
                for trial in run.trials:
                    if trial.status != "passed":
                        failing = [(s.name, s.explanation) for s in trial.scores if not s.passed]
                        check.solution_failed[trial.case_id] = trial.error or _why(failing)
            if any(c.all_mistakes() for c in suite.cases):
                await _check_mistakes(check, suite, replays)
    return check


def format_check(check: SuiteCheck) -> str:
    """The check as lines for the terminal."""
    lines = [f"Suite {check.suite}: {check.cases} cases checked against their own solutions."]
    for case_id, why in sorted(check.solution_failed.items()):
        lines.append(f"  FAIL {case_id}: its solution does not pass ({why})")
    for case_id in check.mistake_passed:
        lines.append(f"  FAIL {case_id}: its mistake passes, so its scorers cannot catch it")
    for case_id, why in sorted(check.mistake_errored.items()):
        lines.append(f"  FAIL {case_id}: its mistake ended in an error, not a failure ({why})")
    for where, why in sorted(check.expected_pass_failed.items()):
        lines.append(f"  FAIL {where}: its mistake fails ({why}): fix or drop passes_because")
    for case_id, names in sorted(check.scorers_never_failed.items()):
        lines.append(
            f"  FAIL {case_id}: no mistake fails {', '.join(names)}: add a mistake it catches"
        )
    for case_id in check.unchecked:
        lines.append(f"  FAIL {case_id}: has no `solution`, so nothing shows it can be passed")
    for case_id in check.no_mistake:
        lines.append(
            f"  NOTE {case_id}: no `mistake` (the solution with one thing wrong), so nothing "
            "shows its scorers can fail"
        )
    for where, why in sorted(check.passed_as_expected.items()):
        lines.append(f"  NOTE {where}: its mistake passes, as expected: {why}")
    if check.ok and check.no_mistake:
        lines.append(
            f"  OK: every solution passes; add a `mistake` to the {len(check.no_mistake)} "
            "noted case(s) to check their scorers too."
        )
    elif check.ok:
        lines.append("  OK: every solution passes and every scorer fails in some mistake.")
    return "\n".join(lines)
