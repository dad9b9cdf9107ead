"""Agents with MCP tools from real server processes: calls, sampling, crashes, cancellation."""

from __future__ import annotations

import sys

from covey import ModelClient, ModelConfig, ToolCall
from covey.agents import Agent, ToolStarted
from covey.testing import ChatRequest, Reply, ScriptedModelServer
from covey.tools import MCPToolset, ProgressUpdate
from tests.tools.conftest import FIXTURE_SERVER
from tests.tools.test_mcp_leaks import child_pids, open_fds


def config(url: str) -> ModelConfig:
    return ModelConfig(base_url=url, model="scripted", backoff_base=0.01)


def call(name: str, call_id: str = "c1", **arguments: object) -> ToolCall:
    return ToolCall(id=call_id, name=name, arguments=dict(arguments))


def fixture() -> MCPToolset:
    return MCPToolset.stdio(sys.executable, [FIXTURE_SERVER], name="fixture")


async def test_an_agent_calls_an_mcp_tool() -> None:
    script = [Reply(tool_calls=[call("add", a=40, b=2)]), Reply(text="42")]
    async with (
        ScriptedModelServer(script) as server,
        ModelClient(config(server.base_url)) as model,
        fixture() as tools,
    ):
        result = await Agent("calc", model, tools=[tools]).run("40+2?")
        fed_back = server.requests[1].body["messages"][-1]
    assert result.output == "42"
    assert fed_back["content"] == "42"


async def test_sampling_requests_are_answered_by_the_agents_model() -> None:
    def policy(request: ChatRequest) -> Reply:
        if request.last_user_text.startswith("Summarize:"):
            return Reply(text="short version")
        if any(m["role"] == "tool" for m in request.messages):
            return Reply(text="done")
        return Reply(tool_calls=[call("summarize", text="a long text")])

    async with (
        ScriptedModelServer(policy=policy) as server,
        ModelClient(config(server.base_url)) as model,
        fixture() as tools,
    ):
        await Agent("writer", model, tools=[tools]).run("summarize it")
        tool_result = [m for m in server.requests[-1].body["messages"] if m["role"] == "tool"]
    assert tool_result[0]["content"] == "summary: short version"


async def test_progress_from_an_mcp_tool_reaches_the_agent_stream() -> None:
    script = [Reply(tool_calls=[call("count_up", steps=2)]), Reply(text="ok")]
    async with (
        ScriptedModelServer(script) as server,
        ModelClient(config(server.base_url)) as model,
        fixture() as tools,
    ):
        async with Agent("counter", model, tools=[tools]).stream("count") as events:
            progress = [e async for e in events if isinstance(e, ProgressUpdate)]
    assert [(p.progress, p.agent) for p in progress] == [(1, "counter"), (2, "counter")]


async def test_a_server_killed_mid_run_is_a_tool_error_and_the_run_ends_cleanly() -> None:
    script = [
        Reply(tool_calls=[call("crash")]),
        Reply(tool_calls=[call("add", "c2", a=1, b=2)]),
        Reply(text="recovered"),
    ]
    async with (
        ScriptedModelServer(script) as server,
        ModelClient(config(server.base_url)) as model,
        fixture() as tools,
    ):
        result = await Agent("brave", model, tools=[tools]).run("go")
        after_crash = server.requests[1].body["messages"][-1]["content"]
        after_restart = server.requests[2].body["messages"][-1]["content"]
    assert result.output == "recovered"
    assert "stopped while running tool 'crash'" in after_crash
    assert after_restart == "3"


async def test_twenty_runs_cancelled_mid_tool_call_leak_nothing() -> None:
    def policy(request: ChatRequest) -> Reply:
        return Reply(tool_calls=[call("slow", seconds=30)])

    async with (
        ScriptedModelServer(policy=policy) as server,
        ModelClient(config(server.base_url)) as model,
    ):
        async with fixture() as warm:
            await warm.list_tools()
        before = open_fds()
        for _ in range(20):
            async with fixture() as tools:
                agent = Agent("sleepy", model, tools=[tools])
                async with agent.stream("go") as events:
                    async for event in events:
                        if isinstance(event, ToolStarted):
                            break
    assert child_pids() == []
    assert open_fds() <= before


async def test_clashing_tool_names_are_prefixed_per_server() -> None:
    script = [Reply(tool_calls=[call("one_add", a=1, b=1)]), Reply(text="2")]
    async with (
        ScriptedModelServer(script) as server,
        ModelClient(config(server.base_url)) as model,
        MCPToolset.stdio(sys.executable, [FIXTURE_SERVER], name="one") as one,
        MCPToolset.stdio(sys.executable, [FIXTURE_SERVER], name="two") as two,
    ):
        result = await Agent("twins", model, tools=[one, two]).run("1+1")
        names = {t["function"]["name"] for t in server.requests[0].body["tools"]}
    assert {"one_add", "two_add"} <= names
    assert "add" not in names
    assert result.output == "2"
