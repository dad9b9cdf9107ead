"""Reflection across trials: with lessons, a policy that failed once succeeds on later trials."""

from __future__ import annotations

import pytest

from covey import ModelClient, ModelConfig
from covey.agents import Agent, TeamState, pipeline
from covey.evals import Case, EvalOptions, FunctionScorer, Suite, load_suite, run_eval
from covey.evals._results import RunResults
from covey.evals._summary import summarize
from covey.evals._trial import TrialContext
from covey.store import Store
from covey.testing import ScriptedModelServer

from ..store.conftest import Backend, backend
from .policies import RIDDLES, SECRETS, WRITES_LESSONS, learner

__all__ = ["backend"]  # fixture, imported for pytest

SUITE = load_suite(str(RIDDLES))


async def _run(
    suite: Suite, store: Store, run_id: str, reflect: bool
) -> tuple[RunResults, list[str]]:
    """Run 3 trials of each case on the learner; return the results and the reports that
    lessons were written from."""
    async with ScriptedModelServer(policy=learner) as server:
        config = ModelConfig(base_url=server.base_url, model="learner", max_retries=0)
        async with ModelClient(config) as model:
            options = EvalOptions(trials=3, concurrency=4, reflect=reflect)
            results = await run_eval(
                suite, model, store=store, run_id=run_id, label="learner", options=options
            )
    reports = [
        r.last_user_text
        for r in server.requests
        if r.messages[0]["content"].startswith(WRITES_LESSONS)
    ]
    return results, reports


def _rates(results: RunResults) -> list[float | None]:
    return [p.rate if p else None for p in summarize(results).by_trial_index]


@pytest.mark.parametrize("reflect", [True, False])
async def test_success_rises_from_trial_one_to_two_only_with_reflection(
    backend: Backend, reflect: bool
) -> None:
    async with backend.store() as store:
        results, reports = await _run(SUITE, store, f"r-{reflect}", reflect)
    if reflect:
        assert _rates(results) == [0.0, 1.0, 1.0]
        assert results.run.config["reflect"] is True
        # Each failed first trial's scorer explanations and answer reached the lesson writer.
        failed = [t for t in results.trials if t.status == "failed"]
        failed.sort(key=lambda t: t.case_id)
        assert [(t.case_id, t.trial) for t in failed] == [("bird", 0), ("tree", 0)]
        inputs = {c.id: c.input for c in SUITE.cases}
        for trial in failed:
            [report] = [r for r in reports if r.startswith(f"Task: {inputs[trial.case_id]}")]
            assert f"Answer given: {trial.output}" in report
            assert all(f"{s.name}: {s.explanation}" in report for s in trial.scores)
    else:
        assert _rates(results) == [0.0, 0.0, 0.0]
        assert reports == []


def right_answer(trial: TrialContext) -> bool:
    """Passes when the answer names the riddle's secret; says no more than that when not."""
    return any(secret in (trial.output or "") for secret in SECRETS.values())


async def test_without_explanations_that_name_the_answer_reflection_learns_nothing(
    backend: Backend,
) -> None:
    # The same riddles, scored by a function whose explanation is only "returned False":
    # the lesson writer has nothing else to learn the answer from, so the curve stays flat.
    cases = [c.model_copy(update={"scorers": [FunctionScorer(right_answer)]}) for c in SUITE.cases]
    suite = SUITE.model_copy(update={"cases": cases})
    async with backend.store() as store:
        results, reports = await _run(suite, store, "silent", reflect=True)
    assert _rates(results) == [0.0, 0.0, 0.0]
    assert len(reports) == 6  # every failed trial left a lesson
    assert all("right_answer returned False." in report for report in reports)


def one_agent_graph(model: ModelClient, servers: object, case: Case) -> object:
    """A suite's factory returning a solver: a one-agent pipeline graph."""
    graph = pipeline([Agent("answerer", model, "Answer the riddle.")])

    async def solve(task: str, on_event: object) -> str:
        result = await graph.run(TeamState(task=task), emit=on_event)  # type: ignore[arg-type]
        return result.state.result

    return solve


async def test_a_graph_solver_gets_the_lessons_too(backend: Backend) -> None:
    suite = SUITE.model_copy(update={"agent": one_agent_graph})
    async with ScriptedModelServer(policy=learner) as server, backend.store() as store:
        config = ModelConfig(base_url=server.base_url, model="learner", max_retries=0)
        async with ModelClient(config) as model:
            options = EvalOptions(trials=2, concurrency=2, reflect=True)
            results = await run_eval(
                suite, model, store=store, run_id="graph", label="learner", options=options
            )
    rates = [p.rate if p else None for p in summarize(results).by_trial_index]
    assert rates == [0.0, 1.0]
