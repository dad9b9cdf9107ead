"""Reflection across trials: with lessons, a policy that failed once succeeds on later trials."""

from __future__ import annotations

import pytest

from covey import ModelClient, ModelConfig
from covey.evals import EvalOptions, load_suite, run_eval
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
