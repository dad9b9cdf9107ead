"""Checking a suite against itself: its solutions must pass, its mistakes must fail.

Both are replayed by covey's scripted model server through the real runner (fresh worlds,
real server processes), so a check proves each case can be passed and that its scorers
catch the mistake it names: no scorer that can never fail.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import BaseModel, Field

from ..models import ModelClient, ModelConfig
from ..store import Store
from ..testing import ScriptedModelServer
from ._case import Suite
from ._oracle import replay_policy
from ._results import RunResults
from ._runner import EvalOptions, run_eval

__all__ = ["SuiteCheck", "check_suite", "format_check"]


class SuiteCheck(BaseModel):
    """What replaying a suite's solutions and mistakes showed."""

    suite: str
    cases: int
    solution_failed: dict[str, str] = Field(default_factory=dict[str, str])
    """Case id -> why its solution did not pass (the case or its scorers are wrong)."""
    mistake_passed: list[str] = Field(default_factory=list[str])
    """Cases whose mistake passed: their scorers cannot catch it."""
    unchecked: list[str] = Field(default_factory=list[str])
    """Cases without a solution or a mistake."""

    @property
    def ok(self) -> bool:
        """Every case has both, every solution passes and every mistake fails."""
        return not (self.solution_failed or self.mistake_passed or self.unchecked)


async def _replay(suite: Suite, which: str, store: Store, concurrency: int) -> RunResults:
    policy = replay_policy(suite, "solution" if which == "solution" else "mistake")
    async with ScriptedModelServer(policy=policy) as server:
        config = ModelConfig(base_url=server.base_url, model="scripted", max_retries=0)
        async with ModelClient(config) as model:
            return await run_eval(
                suite,
                model,
                store=store,
                run_id=f"check-{which}",
                label=f"{which} replay",
                options=EvalOptions(concurrency=concurrency, attempts=1),
            )


def _why(trial_scores: list[tuple[str, str]]) -> str:
    return "; ".join(f"{name}: {why}" for name, why in trial_scores) or "no score"


async def check_suite(suite: Suite, *, concurrency: int = 4) -> SuiteCheck:
    """Replay every case's solution and mistake; see `SuiteCheck` for what is reported."""
    check = SuiteCheck(suite=suite.name, cases=len(suite.cases))
    check.unchecked = [c.id for c in suite.cases if c.solution is None or c.mistake is None]
    solved = [c for c in suite.cases if c.solution]
    mistaken = [c for c in suite.cases if c.mistake]
    with tempfile.TemporaryDirectory(prefix="covey-check-") as tmp:
        async with Store(f"sqlite:///{Path(tmp) / 'check.db'}") as store:
            if solved:
                subset = suite.model_copy(update={"cases": solved})
                run = await _replay(subset, "solution", store, concurrency)
                for trial in run.trials:
                    if trial.status != "passed":
                        failing = [(s.name, s.explanation) for s in trial.scores if not s.passed]
                        check.solution_failed[trial.case_id] = trial.error or _why(failing)
            if mistaken:
                subset = suite.model_copy(update={"cases": mistaken})
                run = await _replay(subset, "mistake", store, concurrency)
                check.mistake_passed = [t.case_id for t in run.trials if t.status == "passed"]
    return check


def format_check(check: SuiteCheck) -> str:
    """The check as lines for the terminal."""
    lines = [f"Suite {check.suite}: {check.cases} cases checked against their own solutions."]
    for case_id, why in sorted(check.solution_failed.items()):
        lines.append(f"  FAIL {case_id}: its solution does not pass ({why})")
    for case_id in check.mistake_passed:
        lines.append(f"  FAIL {case_id}: its mistake passes, so its scorers cannot catch it")
    for case_id in check.unchecked:
        lines.append(f"  WARN {case_id}: has no solution or no mistake to check")
    if check.ok:
        lines.append("  OK: every solution passes and every mistake is caught.")
    return "\n".join(lines)
