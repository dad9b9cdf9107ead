"""Reflection across trials: with lessons, a policy that failed once succeeds on later trials."""

from __future__ import annotations

import pytest

from covey import ModelClient, ModelConfig
from covey.evals import Case, ContainsScorer, EvalOptions, Suite, run_eval
from covey.evals._summary import summarize
from covey.testing import ChatRequest, Reply, ScriptedModelServer

from ..store.conftest import Backend, backend

__all__ = ["backend"]  # fixture, imported for pytest

SUITE = Suite(
    name="riddles",
    cases=[
        Case(
            id="bird",
            input="Which bird is the secret one?",
            scorers=[ContainsScorer(value="heron")],
        ),
        Case(
            id="tree",
            input="Which tree is the secret one?",
            scorers=[ContainsScorer(value="rowan")],
        ),
    ],
)
SECRETS = {"bird": "heron", "tree": "rowan"}


def learner(request: ChatRequest) -> Reply:
    """Wrong until a lesson naming the answer is in the instructions."""
    system = request.messages[0]["content"]
    task = request.last_user_text
    if system.startswith("You write lessons"):
        secret = "heron" if "bird" in task else "rowan"
        return Reply(text=f"The expected answer was {secret}; say {secret}.")
    secret = SECRETS["bird" if "bird" in task else "tree"]
    if f"say {secret}" in system:
        return Reply(text=f"It is the {secret}.")
    return Reply(text="It is the sparrow." if "bird" in task else "It is the oak.")


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
