"""The agent loop end to end, on covey's scripted model server over real HTTP."""

from __future__ import annotations

import anyio
import pydantic
import pytest

from covey import ModelClient, ModelConfig, ToolCall
from covey._errors import MaxTurnsExceeded, OutputValidationError, ToolRetriesExhausted
from covey.agents import (
    Agent,
    ModelRequestStarted,
    ModelResponded,
    RunFinished,
    RunStarted,
    TextChunk,
    ToolFinished,
    ToolStarted,
)
from covey.testing import ChatRequest, Reply, ScriptedModelServer
from covey.tools import RunContext, tool


def config(url: str) -> ModelConfig:
    return ModelConfig(base_url=url, model="scripted", backoff_base=0.01)


def call(name: str, call_id: str = "c1", **arguments: object) -> ToolCall:
    return ToolCall(id=call_id, name=name, arguments=dict(arguments))


@tool
def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: the first addend.
        b: the second addend.
    """
    return a + b


async def test_a_function_tool_is_called_and_its_result_fed_back() -> None:
    script = [Reply(tool_calls=[call("add", a=2, b=3)]), Reply(text="The sum is 5.")]
    async with ScriptedModelServer(script) as server, ModelClient(config(server.base_url)) as model:
        result = await Agent("calc", model, "Use tools.", tools=[add]).run("2+3?")
        second = server.requests[1].body["messages"]
        first_tools = server.requests[0].body["tools"]
    assert result.output == "The sum is 5."
    assert second[-1] == {"role": "tool", "tool_call_id": "c1", "content": "5"}
    assert first_tools[0]["function"]["parameters"]["properties"]["a"] == {
        "type": "integer",
        "description": "the first addend.",
    }
    assert result.usage.requests == 2
    assert result.usage.input_tokens > 0


@pytest.mark.parametrize("dialect", ["hermes", "llama3", "python_tag", "mistral", "pythonic"])
async def test_every_dialect_drives_tools(dialect: str) -> None:
    script = [Reply(tool_calls=[call("add", a=20, b=22)], dialect=dialect), Reply(text="42")]
    async with ScriptedModelServer(script) as server, ModelClient(config(server.base_url)) as model:
        result = await Agent("calc", model, tools=[add]).run("20+22?")
        fed_back = server.requests[1].body["messages"][-1]
    assert result.output == "42"
    assert fed_back["role"] == "tool" and fed_back["content"] == "42"


async def test_several_calls_run_concurrently() -> None:
    both_started = anyio.Event()
    started: list[str] = []

    @tool
    async def wait_for_partner(who: str) -> str:
        """Wait until both calls have started."""
        started.append(who)
        if len(started) == 2:
            both_started.set()
        with anyio.fail_after(5):
            await both_started.wait()
        return f"{who} ok"

    calls = [call("wait_for_partner", "a", who="a"), call("wait_for_partner", "b", who="b")]
    script = [Reply(tool_calls=calls), Reply(text="done")]
    async with ScriptedModelServer(script) as server, ModelClient(config(server.base_url)) as model:
        result = await Agent("pair", model, tools=[wait_for_partner]).run("go")
        results = [m for m in server.requests[1].body["messages"] if m["role"] == "tool"]
    assert result.output == "done"
    assert [m["content"] for m in results] == ["a ok", "b ok"]


async def test_invalid_arguments_go_back_to_the_model_then_the_budget_ends_the_run() -> None:
    bad = Reply(tool_calls=[call("add", a="many", b=1)])
    script = [bad, Reply(tool_calls=[call("add", a=1, b=1)]), Reply(text="2")]
    async with ScriptedModelServer(script) as server, ModelClient(config(server.base_url)) as model:
        result = await Agent("calc", model, tools=[add]).run("1+1")
        feedback = server.requests[1].body["messages"][-1]["content"]
    assert result.output == "2"
    assert "arguments for tool 'add' are invalid" in feedback
    assert "a: Input should be a valid integer" in feedback

    async with (
        ScriptedModelServer([bad, bad, bad]) as server,
        ModelClient(config(server.base_url)) as model,
    ):
        agent = Agent("calc", model, tools=[add], max_invalid_tool_calls=2)
        with pytest.raises(ToolRetriesExhausted, match="3 invalid tool calls") as caught:
            await agent.run("1+1")
    assert caught.value.agent == "calc"
    assert caught.value.messages


async def test_unknown_tools_and_malformed_calls_are_reported_to_the_model() -> None:
    script = [
        Reply(tool_calls=[call("subtract", a=1, b=1)]),
        Reply(tool_calls=[call("add", a=1, b=1)], malformed_arguments=True),
        Reply(text="ok"),
    ]
    async with ScriptedModelServer(script) as server, ModelClient(config(server.base_url)) as model:
        await Agent("calc", model, tools=[add]).run("?")
        unknown = server.requests[1].body["messages"][-1]["content"]
        malformed = server.requests[2].body["messages"][-1]["content"]
    assert "There is no tool named 'subtract'. The tools are: add." == unknown
    assert "JSON" in malformed
    # The model is shown the tool's real parameters, never a placeholder it could copy.
    assert "The parameters of 'add': a (integer, required), b (integer, required)." in malformed
    assert '"key"' not in malformed


async def test_a_bare_call_written_as_text_is_read_and_the_tool_runs() -> None:
    # Qwen2.5-Coder-0.5B wrote calls one per line, without the <tool_call> tags.
    bare = (
        '{"name": "add", "arguments": {"a": 2, "b": 3}}\n'
        '{"name": "add", "arguments": {"a": 1, "b": 1}}'
    )
    script = [Reply(text=bare), Reply(text="5 and 2")]
    async with ScriptedModelServer(script) as server, ModelClient(config(server.base_url)) as model:
        result = await Agent("calc", model, tools=[add]).run("?")
        results = [m["content"] for m in server.requests[1].body["messages"] if m["role"] == "tool"]
    assert results == ["5", "2"]
    assert result.output == "5 and 2"


async def test_max_turns_ends_the_run_with_a_clear_error() -> None:
    loop = [Reply(tool_calls=[call("add", a=1, b=1)])] * 3
    async with ScriptedModelServer(loop) as server, ModelClient(config(server.base_url)) as model:
        with pytest.raises(MaxTurnsExceeded, match="max_turns=3"):
            await Agent("loop", model, tools=[add], max_turns=3).run("go")


async def test_a_hanging_tool_times_out_and_the_run_goes_on() -> None:
    @tool(timeout=0.2)
    async def hang() -> str:
        """Never finishes."""
        await anyio.sleep(60)
        return "never"

    script = [Reply(tool_calls=[call("hang")]), Reply(text="gave up")]
    async with ScriptedModelServer(script) as server, ModelClient(config(server.base_url)) as model:
        result = await Agent("patient", model, tools=[hang]).run("go")
        fed_back = server.requests[1].body["messages"][-1]["content"]
    assert result.output == "gave up"
    assert "did not finish within 0.2s" in fed_back


async def test_tools_needing_approval_ask_and_refusals_reach_the_model() -> None:
    @tool(requires_approval=True)
    def delete_everything(path: str) -> str:
        """Delete a path."""
        return f"deleted {path}"

    asked: list[ToolCall] = []

    def approve(c: ToolCall) -> bool | str:
        asked.append(c)
        return "only /tmp may be deleted" if c.arguments["path"] != "/tmp" else True

    script = [
        Reply(tool_calls=[call("delete_everything", "c1", path="/")]),
        Reply(tool_calls=[call("delete_everything", "c2", path="/tmp")]),
        Reply(text="ok"),
    ]
    async with ScriptedModelServer(script) as server, ModelClient(config(server.base_url)) as model:
        agent = Agent("janitor", model, tools=[delete_everything], approve=approve)
        await agent.run("clean up")
        refused = server.requests[1].body["messages"][-1]["content"]
        allowed = server.requests[2].body["messages"][-1]["content"]
    assert [c.arguments["path"] for c in asked] == ["/", "/tmp"]
    assert "refused: only /tmp may be deleted" in refused
    assert allowed == "deleted /tmp"


async def test_tools_get_the_run_context_and_deps() -> None:
    @tool
    def whoami(ctx: RunContext[str]) -> str:
        """Who is asking."""
        return f"{ctx.agent} for {ctx.deps} ({ctx.tool_call_id})"

    script = [Reply(tool_calls=[call("whoami", "c7")]), Reply(text="ok")]
    async with ScriptedModelServer(script) as server, ModelClient(config(server.base_url)) as model:
        await Agent("clerk", model, tools=[whoami]).run("?", deps="ada")
        answer = server.requests[1].body["messages"][-1]["content"]
        schema = server.requests[0].body["tools"][0]["function"]["parameters"]
    assert answer == "clerk for ada (c7)"
    assert schema["properties"] == {}


class City(pydantic.BaseModel):
    name: str
    population: int


async def test_structured_output_without_tools_uses_the_response_format() -> None:
    script = [Reply(text='{"name": "Paris", "population": 2100000}')]
    async with ScriptedModelServer(script) as server, ModelClient(config(server.base_url)) as model:
        result = await Agent("geo", model, output_type=City).run("Biggest French city?")
        sent = server.requests[0].body
    assert result.output == City(name="Paris", population=2100000)
    assert sent["response_format"]["type"] == "json_schema"


async def test_structured_output_with_tools_uses_a_final_answer_tool() -> None:
    script = [
        Reply(tool_calls=[call("add", a=1, b=1)]),
        Reply(
            tool_calls=[
                ToolCall(id="f1", name="final_answer", arguments={"name": "Two", "population": 2})
            ]
        ),
    ]
    async with ScriptedModelServer(script) as server, ModelClient(config(server.base_url)) as model:
        result = await Agent("geo", model, tools=[add], output_type=City).run("?")
        tool_names = [t["function"]["name"] for t in server.requests[0].body["tools"]]
    assert result.output == City(name="Two", population=2)
    assert tool_names == ["add", "final_answer"]


async def test_invalid_structured_output_is_retried_then_fails_clearly() -> None:
    script = [Reply(text='{"name": "Paris"}'), Reply(text='{"name": "Paris", "population": 1}')]
    async with ScriptedModelServer(script) as server, ModelClient(config(server.base_url)) as model:
        result = await Agent("geo", model, output_type=City).run("?")
        feedback = server.requests[1].body["messages"][-1]["content"]
    assert result.output.population == 1
    assert "population: Field required" in feedback

    async with (
        ScriptedModelServer([Reply(text="not json")] * 2) as server,
        ModelClient(config(server.base_url)) as model,
    ):
        with pytest.raises(OutputValidationError, match="gave no valid City after"):
            await Agent("geo", model, output_type=City, output_retries=1).run("?")


async def test_stream_yields_every_event_in_order() -> None:
    script = [Reply(tool_calls=[call("add", a=2, b=2)]), Reply(text="Four, as computed.")]
    async with ScriptedModelServer(script) as server, ModelClient(config(server.base_url)) as model:
        agent = Agent("calc", model, tools=[add])
        async with agent.stream("2+2?") as events:
            seen = [event async for event in events]
        result = events.result
    kinds = [type(e) for e in seen if not isinstance(e, TextChunk)]
    assert kinds[:2] == [RunStarted, ModelRequestStarted]
    assert ToolStarted in kinds and ToolFinished in kinds
    assert kinds.index(ToolStarted) < kinds.index(ToolFinished)
    assert kinds[-1] is RunFinished
    assert sum(1 for k in kinds if k is ModelResponded) == 2
    text = "".join(e.text for e in seen if isinstance(e, TextChunk))
    assert text == "Four, as computed." == result.output


async def test_leaving_a_stream_early_cancels_the_run() -> None:
    @tool
    async def slow() -> str:
        """Takes long."""
        await anyio.sleep(60)
        return "late"

    script = [Reply(tool_calls=[call("slow")])]
    async with ScriptedModelServer(script) as server, ModelClient(config(server.base_url)) as model:
        with anyio.fail_after(10):
            async with Agent("s", model, tools=[slow]).stream("go") as events:
                async for event in events:
                    if isinstance(event, ToolStarted):
                        break


@pytest.mark.timeout(300)
async def test_five_hundred_agents_run_concurrently() -> None:
    runs = 500
    in_flight, peak = 0, 0
    all_in = anyio.Event()

    async def barrier(request: ChatRequest) -> Reply:
        # Hold every request until all the runs have one in flight; runs that were queued
        # or serialised would never get there, and the peak would show it.
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        if in_flight == runs:
            all_in.set()
        with anyio.move_on_after(90):  # 500 arrive in ~20 s on a loaded 2-core machine
            await all_in.wait()
        all_in.set()  # after a timeout, let the rest through so the assertion can report
        in_flight -= 1
        return Reply(text=f"echo {request.last_user_text}")

    outputs: dict[int, str] = {}
    async with (
        ScriptedModelServer(policy=barrier) as server,
        ModelClient(config(server.base_url)) as model,
    ):
        agent = Agent("echo", model)

        async def one(i: int) -> None:
            outputs[i] = (await agent.run(f"n{i}")).output

        async with anyio.create_task_group() as group:
            for i in range(runs):
                group.start_soon(one, i)
    assert peak == runs
    assert outputs == {i: f"echo n{i}" for i in range(runs)}
