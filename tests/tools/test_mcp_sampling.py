"""A server's sampling request is answered by the model of the agent whose call made it."""

from __future__ import annotations

import sys

import pytest

from covey import ModelClient, ModelConfig, ToolCall
from covey.agents import Agent
from covey.testing import ChatRequest, Reply, ScriptedModelServer
from covey.tools import MCPToolset
from tests.tools.conftest import FIXTURE_SERVER


def policy_for(voice: str):  # type: ignore[no-untyped-def]
    """A model that calls `summarize`, answers the server's sampling request in its own voice,
    then reports the tool's result."""

    def policy(request: ChatRequest) -> Reply:
        if request.last_user_text.startswith("Summarize:"):
            return Reply(text=f"{voice} summary")
        results = [m for m in request.messages if m["role"] == "tool"]
        if results:
            return Reply(text=str(results[-1]["content"]))
        return Reply(
            tool_calls=[ToolCall(id="c1", name="summarize", arguments={"text": "a long text"})]
        )

    return policy


def config(url: str) -> ModelConfig:
    return ModelConfig(base_url=url, model="scripted", backoff_base=0.01)


@pytest.mark.parametrize("first", ["alice", "bob"])
async def test_sampling_goes_to_the_calling_agents_model_whoever_was_built_first(
    first: str,
) -> None:
    async with (
        ScriptedModelServer(policy=policy_for("alice's")) as alice_server,
        ScriptedModelServer(policy=policy_for("bob's")) as bob_server,
        ModelClient(config(alice_server.base_url)) as alice_model,
        ModelClient(config(bob_server.base_url)) as bob_model,
        MCPToolset.stdio(sys.executable, [FIXTURE_SERVER], name="fixture") as shared,
    ):
        models = {"alice": alice_model, "bob": bob_model}
        order = [first, *(name for name in models if name != first)]
        agents = {name: Agent(name, models[name], tools=[shared]) for name in order}
        outputs = {name: (await agents[name].run("summarize it")).output for name in order}
    assert outputs == {"alice": "summary: alice's summary", "bob": "summary: bob's summary"}


async def test_a_toolset_sampling_model_answers_for_every_agent() -> None:
    async with (
        ScriptedModelServer(policy=policy_for("agent's")) as agent_server,
        ScriptedModelServer(policy=policy_for("toolset's")) as toolset_server,
        ModelClient(config(agent_server.base_url)) as agent_model,
        ModelClient(config(toolset_server.base_url)) as toolset_model,
        MCPToolset.stdio(
            sys.executable, [FIXTURE_SERVER], name="fixture", sampling_model=toolset_model
        ) as shared,
    ):
        output = (await Agent("writer", agent_model, tools=[shared]).run("summarize it")).output
    assert output == "summary: toolset's summary"


async def test_sampling_outside_an_agent_run_without_a_model_is_refused_clearly() -> None:
    async with MCPToolset.stdio(sys.executable, [FIXTURE_SERVER], name="fixture") as toolset:
        result = await toolset.call_tool("summarize", {"text": "x"})
    assert result.is_error
    assert "sampling_model" in result.content
