"""Reflection across trials: with lessons, a policy that failed once succeeds on later trials."""

from __future__ import annotations

import pytest

from covey import ModelClient, ModelConfig
from covey.agents import Agent, TeamState, pipeline
from covey.evals import Case, EvalOptions, load_suite, run_eval
from covey.evals._summary import summarize
from covey.testing import ScriptedModelServer

from ..store.conftest import Backend, backend
from .policies import RIDDLES, learner

__all__ = ["backend"]  # fixture, imported for pytest

SUITE = load_suite(str(RIDDLES))


@pytest.mark.parametrize("reflect", [True, False])
async def test_success_rises_from_trial_one_to_two_only_with_reflection(
    backend: Backend, reflect: bool
) -> None:
    async with ScriptedModelServer(policy=learner) as server, backend.store() as store:
        config = ModelConfig(base_url=server.base_url, model="learner", max_retries=0)
        async with ModelClient(config) as model:
            options = EvalOptions(trials=3, concurrency=4, reflect=reflect)
            results = await run_eval(
                SUITE, model, store=store, run_id=f"r-{reflect}", label="learner", options=options
            )
    rates = [p.rate if p else None for p in summarize(results).by_trial_index]
    if reflect:
        assert rates == [0.0, 1.0, 1.0]
        assert results.run.config["reflect"] is True
    else:
        assert rates == [0.0, 0.0, 0.0]


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
