"""Simulated users: conversations that run until the user, a turn limit or the agent ends them."""

from __future__ import annotations

from pathlib import Path

from covey import ModelClient, ModelConfig
from covey.evals import Case, EnvironmentSpec, SaidScorer, Suite, UserSpec
from covey.evals._runner import EvalOptions, run_eval
from covey.models import ToolCall
from covey.store import Store
from covey.testing import ChatRequest, Reply, ScriptedModelServer
from examples.shop.environment import make_shop


def echo(request: ChatRequest) -> Reply:
    """The agent: repeats what the user just said; says DONE when asked to finish."""
    said = request.last_user_text
    return Reply(text="DONE" if said == "finish" else f"echo: {said}")


async def run(suite: Suite, tmp_path: Path, user_model: ModelClient | None = None) -> list[object]:
    async with (
        ScriptedModelServer(policy=echo) as server,
        ModelClient(ModelConfig(base_url=server.base_url, model="m", max_retries=0)) as model,
        Store(f"sqlite:///{tmp_path}/s.db") as store,
    ):
        options = EvalOptions(attempts=1, user_model=user_model)
        results = await run_eval(suite, model, store=store, run_id="r", label="m", options=options)
    return list(results.trials)


async def test_a_scripted_user_and_the_agents_final_answer_end_conversations(
    tmp_path: Path,
) -> None:
    said = SaidScorer(values=["echo: second"])  # an earlier answer, not the last
    suite = Suite(
        name="talk",
        scorers=[said],
        cases=[
            Case(id="turns", input="first", user=UserSpec(turns=["second", "third"])),
            Case(
                id="done",
                input="first",
                user=UserSpec(turns=["second", "finish", "never"], agent_done="DONE"),
            ),
            Case(id="limit", input="begin", user=UserSpec(turns=["second", "x"], max_turns=2)),
        ],
    )
    trials = {t.case_id: t for t in await run(suite, tmp_path)}  # type: ignore[attr-defined]
    turns = trials["turns"]
    assert [(m["role"], m.get("content")) for m in turns.transcript[1:]] == [
        ("user", "first"),
        ("assistant", "echo: first"),
        ("user", "second"),
        ("assistant", "echo: second"),
        ("user", "third"),
        ("assistant", "echo: third"),
    ]
    assert turns.output == "echo: third" and turns.status == "passed"
    assert trials["done"].output == "DONE"  # "never" was not said
    assert [m["content"] for m in trials["done"].transcript if m["role"] == "user"][-1] == "finish"
    assert trials["limit"].output == "echo: second"  # two user messages at most
    assert trials["limit"].status == "passed"


def reads_inbox(request: ChatRequest) -> Reply:
    """The user model: reads its inbox (a user-side tool), says what it found, then stops."""
    if request.last_tool_result is not None:
        return Reply(text=f"Found it: {request.last_tool_result}")
    if "echo: Found it" in request.last_user_text:
        return Reply(text="###STOP###")
    email = {"email": "ann@example.com"}
    return Reply(tool_calls=[ToolCall(id="u", name="read_inbox", arguments=email)])


async def test_a_model_user_has_its_own_model_and_the_environments_user_tools(
    tmp_path: Path,
) -> None:
    user = UserSpec(instructions="You are Ann. Find your latest order number in your inbox.")
    suite = Suite(
        name="talk",
        environment=EnvironmentSpec(factory=make_shop),
        cases=[
            Case(
                id="inbox",
                input="Which order was mine?",
                user=user,
                scorers=[SaidScorer(values=["O1002 is confirmed"])],
            )
        ],
    )
    async with ScriptedModelServer(policy=reads_inbox) as server:
        config = ModelConfig(base_url=server.base_url, model="user", max_retries=0)
        async with ModelClient(config) as user_model:
            (trial,) = await run(suite, tmp_path, user_model)
        assert "read_inbox" in server.requests[0].tool_names
        assert "You are Ann" in server.requests[0].messages[0]["content"]
    assert trial.status == "passed", trial.scores  # type: ignore[attr-defined]
    users = [m["content"] for m in trial.transcript if m["role"] == "user"]  # type: ignore[attr-defined]
    assert users[0] == "Which order was mine?" and "O1002" in users[1]
