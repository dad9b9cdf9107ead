"""A trial's memory store exists only for a case that uses memory."""

from __future__ import annotations

from pathlib import Path

from covey import ModelClient, ModelConfig
from covey.evals import Case, FunctionScorer, MemoryScorer, Step, Suite, TrialContext
from covey.evals._oracle import replay_policy
from covey.evals._runner import EvalOptions, run_eval
from covey.store import Store
from covey.testing import ScriptedModelServer

ADA = {"name": "Ada", "entityType": "person", "observations": ["likes teal"]}


def no_memory_store(trial: TrialContext) -> bool:
    return not trial.world.memory_path.exists()


def _suite() -> Suite:
    plain = Case(
        id="no-memory",
        input="Say done.",
        servers=["calc"],
        scorers=[FunctionScorer(no_memory_store)],
        solution=[Step(answer="done")],
    )
    remembers = Case(  # no seeds: the memory server makes its own store
        id="new-memory",
        input="Remember that Ada likes teal.",
        servers=["memory"],
        scorers=[MemoryScorer(entity="Ada", observation="teal")],
        solution=[Step(tool="create_entities", arguments={"entities": [ADA]}), Step(answer="ok")],
    )
    return Suite(name="memory", cases=[plain, remembers])


async def test_only_a_case_using_memory_gets_a_memory_store(tmp_path: Path) -> None:
    suite = _suite()
    async with (
        ScriptedModelServer(policy=replay_policy(suite, "solution")) as server,
        ModelClient(ModelConfig(base_url=server.base_url, model="m", max_retries=0)) as model,
        Store(f"sqlite:///{tmp_path / 'evals.db'}") as store,
    ):
        options = EvalOptions(attempts=1)
        results = await run_eval(suite, model, store=store, run_id="r", label="m", options=options)
    verdicts = {t.case_id: (t.status, t.scores[0].explanation) for t in results.trials}
    assert verdicts["no-memory"] == ("passed", "no_memory_store returned True.")
    assert verdicts["new-memory"][0] == "passed", verdicts
