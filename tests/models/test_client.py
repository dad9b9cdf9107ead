"""The model client against covey's scripted model server, over real HTTP."""

from __future__ import annotations

import socket
from contextlib import aclosing

import pytest

from covey import (
    AssistantMessage,
    ModelClient,
    ModelConfig,
    ModelConnectionError,
    ModelHTTPError,
    ModelResponseError,
    ResponseDone,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolDefinition,
    ToolResultMessage,
    UserMessage,
)
from covey.models import ModelSettings, RetryInfo, StreamEvent
from covey.testing import Fault, Reply, ScriptedModelServer

ADD = ToolDefinition(
    name="add",
    description="Add two numbers.",
    parameters={
        "type": "object",
        "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
        "required": ["a", "b"],
    },
)
HELLO = [UserMessage(content="hello there")]


def fast(base_url: str, **overrides: object) -> ModelConfig:
    settings: dict[str, object] = {"backoff_base": 0.01, "backoff_max": 0.05, "timeout": 10.0}
    settings.update(overrides)
    return ModelConfig(base_url=base_url, model="scripted", **settings)  # type: ignore[arg-type]


async def collect(client: ModelClient, **kwargs: object) -> list[StreamEvent]:
    events: list[StreamEvent] = []
    async with aclosing(client.stream(HELLO, **kwargs)) as stream:  # type: ignore[arg-type]
        async for event in stream:
            events.append(event)
    return events


async def test_complete_returns_text_usage_and_finish_reason() -> None:
    async with (
        ScriptedModelServer([Reply(text="The answer is 42.")]) as server,
        ModelClient(fast(server.base_url)) as client,
    ):
        response = await client.complete(HELLO)
    assert response.text == "The answer is 42."
    assert response.tool_calls == ()
    assert response.finish_reason == "stop"
    assert response.usage.requests == 1
    assert response.usage.output_tokens > 0
    assert response.usage.input_tokens > 0


async def test_stream_yields_text_pieces_then_the_whole_response() -> None:
    text = "Streaming works in many small pieces, one after another."
    async with (
        ScriptedModelServer([Reply(text=text)]) as server,
        ModelClient(fast(server.base_url)) as client,
    ):
        events = await collect(client)
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 1
    assert "".join(deltas) == text
    done = events[-1]
    assert isinstance(done, ResponseDone)
    assert done.response.text == text
    assert done.response.usage.output_tokens > 0


async def test_native_tool_calls_full_and_streamed() -> None:
    calls = (
        ToolCall(id="c1", name="add", arguments={"a": 1, "b": 2}),
        ToolCall(id="c2", name="add", arguments={"a": 3, "b": 4.5}),
    )
    async with (
        ScriptedModelServer([Reply(tool_calls=calls), Reply(tool_calls=calls)]) as server,
        ModelClient(fast(server.base_url)) as client,
    ):
        full = await client.complete(HELLO, tools=[ADD])
        events = await collect(client, tools=[ADD])
        sent = server.requests[0].body
    assert [(c.id, c.name, c.arguments) for c in full.tool_calls] == [
        ("c1", "add", {"a": 1, "b": 2}),
        ("c2", "add", {"a": 3, "b": 4.5}),
    ]
    assert full.finish_reason == "tool_calls"
    streamed = [e.call for e in events if isinstance(e, ToolCallDelta)]
    assert [(c.name, c.arguments) for c in streamed] == [(c.name, c.arguments) for c in calls]
    assert sent["tools"][0]["function"]["name"] == "add"


@pytest.mark.parametrize("dialect", ["hermes", "llama3", "python_tag", "mistral", "pythonic"])
async def test_text_dialect_tool_calls_become_tool_calls(dialect: str) -> None:
    calls = (ToolCall(id="x", name="add", arguments={"a": 2, "b": 5}),)
    script = [Reply(tool_calls=calls, dialect=dialect), Reply(tool_calls=calls, dialect=dialect)]
    async with (
        ScriptedModelServer(script) as server,
        ModelClient(fast(server.base_url)) as client,
    ):
        full = await client.complete(HELLO, tools=[ADD])
        events = await collect(client, tools=[ADD])
    assert [(c.name, c.arguments, c.dialect) for c in full.tool_calls] == [
        ("add", {"a": 2, "b": 5}, dialect)
    ]
    streamed = [e.call for e in events if isinstance(e, ToolCallDelta)]
    assert [(c.name, c.arguments, c.dialect) for c in streamed] == [
        ("add", {"a": 2, "b": 5}, dialect)
    ]
    assert not any(isinstance(e, TextDelta) for e in events)
    done = events[-1]
    assert isinstance(done, ResponseDone)
    assert done.response.tool_calls == tuple(streamed)
    assert "add" not in done.response.text


async def test_tool_results_go_back_in_the_wire_format() -> None:
    call = ToolCall(id="c9", name="add", arguments={"a": 1, "b": 1})
    history = [
        *HELLO,
        AssistantMessage(tool_calls=(call,)),
        ToolResultMessage(tool_call_id="c9", name="add", content="2"),
    ]
    async with (
        ScriptedModelServer([Reply(text="It is 2.")]) as server,
        ModelClient(fast(server.base_url)) as client,
    ):
        await client.complete(history, tools=[ADD])
        messages = server.requests[0].body["messages"]
    assert messages[1]["tool_calls"][0]["id"] == "c9"
    assert messages[2] == {"role": "tool", "tool_call_id": "c9", "content": "2"}


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_retryable_status_is_retried_then_succeeds(status: int) -> None:
    retries: list[RetryInfo] = []
    async with (
        ScriptedModelServer([Fault.status(status), Reply(text="ok")]) as server,
        ModelClient(fast(server.base_url)) as client,
    ):
        response = await client.complete(HELLO, on_retry=retries.append)
    assert response.text == "ok"
    assert [r.attempt for r in retries] == [1]
    assert str(status) in retries[0].error


async def test_retry_after_header_is_honoured_within_the_cap() -> None:
    retries: list[RetryInfo] = []
    async with (
        ScriptedModelServer([Fault.status(429, retry_after=0.02), Reply(text="ok")]) as server,
        ModelClient(fast(server.base_url)) as client,
    ):
        await client.complete(HELLO, on_retry=retries.append)
    assert retries[0].delay == pytest.approx(0.02)


async def test_retries_are_capped_and_end_in_a_clear_error() -> None:
    script = [Fault.status(500, message="backend exploded")] * 3
    async with (
        ScriptedModelServer(script) as server,
        ModelClient(fast(server.base_url, max_retries=2)) as client,
    ):
        with pytest.raises(ModelHTTPError) as caught:
            await client.complete(HELLO)
    message = str(caught.value)
    assert caught.value.status_code == 500
    assert "backend exploded" in message
    assert "after 3 attempts" in message


async def test_client_errors_are_not_retried() -> None:
    async with (
        ScriptedModelServer([Fault.status(404, message="model 'nope' not found")]) as server,
        ModelClient(fast(server.base_url)) as client,
    ):
        with pytest.raises(ModelHTTPError) as caught:
            await client.complete(HELLO)
    assert caught.value.status_code == 404
    assert "/v1/models" in str(caught.value)


async def test_garbage_body_is_retried_then_reported() -> None:
    async with (
        ScriptedModelServer([Fault.garbage(), Reply(text="fine")]) as server,
        ModelClient(fast(server.base_url)) as client,
    ):
        assert (await client.complete(HELLO)).text == "fine"
    async with (
        ScriptedModelServer([Fault.garbage(), Fault.garbage()]) as server,
        ModelClient(fast(server.base_url, max_retries=1)) as client,
    ):
        with pytest.raises(ModelResponseError, match="cannot read"):
            await client.complete(HELLO)


async def test_malformed_tool_arguments_become_malformed_calls() -> None:
    calls = (ToolCall(id="m1", name="add", arguments={"a": 1, "b": 2}),)
    script = [Reply(tool_calls=calls, malformed_arguments=True)] * 2
    async with (
        ScriptedModelServer(script) as server,
        ModelClient(fast(server.base_url)) as client,
    ):
        full = await client.complete(HELLO, tools=[ADD])
        events = await collect(client, tools=[ADD])
    assert full.tool_calls == ()
    (bad,) = full.malformed_tool_calls
    assert bad.name == "add"
    assert "JSON" in bad.error
    done = events[-1]
    assert isinstance(done, ResponseDone)
    assert len(done.response.malformed_tool_calls) == 1


async def test_cut_stream_raises_a_clear_error() -> None:
    script = [Reply(text="this stream will be cut before it ends", cut_after_chunks=2)]
    async with (
        ScriptedModelServer(script) as server,
        ModelClient(fast(server.base_url)) as client,
    ):
        with pytest.raises(ModelResponseError, match="broke after"):
            await collect(client)


async def test_slow_server_times_out_with_a_clear_error() -> None:
    script = [Reply(text="late", delay=30.0)] * 2
    async with (
        ScriptedModelServer(script, allow_unused=True) as server,
        ModelClient(fast(server.base_url, timeout=0.3, max_retries=1)) as client,
    ):
        with pytest.raises(ModelConnectionError, match=r"did not answer within 0\.3s"):
            await client.complete(HELLO)


async def test_no_server_gives_an_actionable_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with ModelClient(fast(f"http://127.0.0.1:{port}/v1", max_retries=1)) as client:
        with pytest.raises(ModelConnectionError) as caught:
            await client.complete(HELLO)
    assert f"No model server answers at http://127.0.0.1:{port}/v1" in str(caught.value)
    assert "covey model serve" in str(caught.value)


async def test_model_name_comes_from_the_server_when_not_configured() -> None:
    async with (
        ScriptedModelServer([Reply(text="hi")]) as server,
        ModelClient(ModelConfig(base_url=server.base_url)) as client,
    ):
        assert await client.model_name() == "scripted"
        await client.complete(HELLO)
        assert server.requests[0].body["model"] == "scripted"


def test_tool_schemas_sent_to_a_model_leave_out_large_length_limits() -> None:
    from covey.models import ToolDefinition

    schema = {
        "type": "object",
        "properties": {
            "expression": {"type": "string", "maxLength": 10_000},
            "unit": {"type": "string", "maxLength": 8},
            "items": {"type": "array", "items": {"type": "string"}, "maxItems": 1000},
        },
    }
    sent = ToolDefinition(name="calc", description="", parameters=schema).to_openai()
    properties = sent["function"]["parameters"]["properties"]
    assert "maxLength" not in properties["expression"]  # llama.cpp grammars crash on these
    assert properties["unit"]["maxLength"] == 8
    assert "maxItems" not in properties["items"]
    assert schema["properties"]["expression"]["maxLength"] == 10_000  # the tool keeps its own


async def test_with_tool_choice_none_call_like_text_is_the_answer() -> None:
    # The model was told it may not call tools: text in a call's form is what it answered.
    add = ToolDefinition(
        name="add",
        description="Add.",
        parameters={"type": "object", "properties": {"a": {"type": "integer"}}},
    )
    said = '<think>sum</think><tool_call>{"name": "add", "arguments": {"a": 1}}</tool_call>'
    async with ScriptedModelServer([Reply(text=said), Reply(text=said)]) as server:
        async with ModelClient(ModelConfig(base_url=server.base_url, model="scripted")) as model:
            whole = await model.complete(
                [UserMessage(content="1?")], tools=[add], tool_choice="none"
            )
            async with aclosing(
                model.stream([UserMessage(content="1?")], tools=[add], tool_choice="none")
            ) as events:
                streamed = [e async for e in events][-1]
    assert isinstance(streamed, ResponseDone)
    for response in (whole, streamed.response):
        assert response.tool_calls == () and response.malformed_tool_calls == ()
        assert response.text == '<tool_call>{"name": "add", "arguments": {"a": 1}}</tool_call>'
        assert response.reasoning == "sum"


async def test_requests_carry_the_api_key_settings_and_extra_body() -> None:
    settings = ModelSettings(temperature=0.2, seed=7, stop=("END",), extra_body={"top_k": 20})
    async with (
        ScriptedModelServer([Reply(text="one"), Reply(text="two")]) as server,
        ModelClient(fast(server.base_url, api_key="sk-test")) as client,
    ):
        await client.complete(HELLO, tools=[ADD], tool_choice="add", settings=settings)
        await collect(client, settings=settings)
        full, streamed = server.requests
    for request in (full, streamed):
        assert request.path.endswith("/chat/completions")
        assert request.headers["authorization"] == "Bearer sk-test"
        assert request.body["temperature"] == 0.2
        assert request.body["seed"] == 7
        assert request.body["stop"] == ["END"]
        assert request.body["top_k"] == 20
        assert "extra_body" not in request.body
    assert full.body["tool_choice"] == {"type": "function", "function": {"name": "add"}}
    assert "stream" not in full.body
    assert streamed.body["stream"] is True
    assert streamed.body["stream_options"] == {"include_usage": True}
