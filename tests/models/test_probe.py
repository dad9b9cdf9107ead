"""Capability probing and constrained tool mode, against scripted servers that refuse things."""

from __future__ import annotations

import json

from covey import ModelClient, ModelConfig, OutputSchema, ToolDefinition, UserMessage
from covey.testing import Reply, ScriptedModelServer

ADD = ToolDefinition(
    name="add",
    description="Add two numbers.",
    parameters={
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
)
HELLO = [UserMessage(content="add 2 and 3")]


def config(base_url: str) -> ModelConfig:
    return ModelConfig(base_url=base_url, model="scripted", backoff_base=0.01)


async def test_full_featured_server_is_probed_once() -> None:
    async with (
        ScriptedModelServer([Reply(text="a"), Reply(text="b")]) as server,
        ModelClient(config(server.base_url)) as client,
    ):
        caps = await client.capabilities()
        await client.complete(HELLO, tools=[ADD])
        await client.complete(HELLO, tools=[ADD])
        probes = len(server.probe_requests)
        assert await client.capabilities() is caps
        assert len(server.probe_requests) == probes
    assert caps.native_tools
    assert caps.tool_choice == {"auto", "none", "required", "named"}
    assert caps.structured_output == "json_schema"


async def test_server_without_tools_gets_constrained_mode() -> None:
    envelope = json.dumps({"tool_calls": [{"name": "add", "arguments": {"a": 2, "b": 3}}]})
    final = json.dumps({"final": "5"})
    script = [Reply(text=envelope), Reply(text=final)]
    async with (
        ScriptedModelServer(
            script, native_tools=False, response_formats=("json_object", "text")
        ) as server,
        ModelClient(config(server.base_url)) as client,
    ):
        caps = await client.capabilities()
        first = await client.complete(HELLO, tools=[ADD])
        second = await client.complete(HELLO, tools=[ADD])
        sent = server.requests[0].body
    assert not caps.native_tools
    assert caps.structured_output == "json_object_schema"
    assert [(c.name, c.arguments, c.dialect) for c in first.tool_calls] == [
        ("add", {"a": 2, "b": 3}, "envelope")
    ]
    assert second.text == "5"
    assert "tools" not in sent
    assert sent["response_format"]["type"] == "json_object"
    assert "anyOf" in sent["response_format"]["schema"]
    assert "add" in sent["messages"][0]["content"]


async def test_server_with_nothing_structured_still_gets_envelope_by_prompt() -> None:
    envelope = json.dumps({"tool_calls": [{"name": "add", "arguments": {"a": 1, "b": 1}}]})
    async with (
        ScriptedModelServer(
            [Reply(text=f"```json\n{envelope}\n```")],
            native_tools=False,
            response_formats=("text",),
        ) as server,
        ModelClient(config(server.base_url)) as client,
    ):
        caps = await client.capabilities()
        reply = await client.complete(HELLO, tools=[ADD])
        sent = server.requests[0].body
    assert caps.structured_output == "none"
    assert "response_format" not in sent
    assert reply.tool_calls[0].arguments == {"a": 1, "b": 1}


async def test_structured_output_uses_the_strongest_form_the_server_takes() -> None:
    schema = OutputSchema(
        name="city", schema={"type": "object", "properties": {"name": {"type": "string"}}}
    )
    answer = Reply(text='{"name": "Paris"}')
    async with (
        ScriptedModelServer([answer], response_formats=("json_schema", "json_object")) as s1,
        ModelClient(config(s1.base_url)) as c1,
    ):
        await c1.complete(HELLO, output=schema)
        first = s1.requests[0].body["response_format"]
    async with (
        ScriptedModelServer([answer], response_formats=("json_object",)) as s2,
        ModelClient(config(s2.base_url)) as c2,
    ):
        await c2.complete(HELLO, output=schema)
        second = s2.requests[0].body
    assert first["type"] == "json_schema"
    assert first["json_schema"]["schema"] == schema.schema
    assert second["response_format"] == {"type": "json_object", "schema": schema.schema}
    assert "schema" in second["messages"][0]["content"]


async def test_unsupported_tool_choice_forms_are_degraded_not_sent() -> None:
    async with (
        ScriptedModelServer([Reply(text="x"), Reply(text="y")], tool_choice=("auto",)) as server,
        ModelClient(config(server.base_url)) as client,
    ):
        await client.complete(HELLO, tools=[ADD], tool_choice="add")
        await client.complete(HELLO, tools=[ADD], tool_choice="required")
        sent = [r.body for r in server.requests]
    assert "tool_choice" not in sent[0]
    assert "tool_choice" not in sent[1]


async def test_forced_constrained_mode_skips_native_tools() -> None:
    final = json.dumps({"final": "done"})
    async with ScriptedModelServer([Reply(text=final)]) as server:
        forced = ModelConfig(base_url=server.base_url, model="scripted", tool_mode="constrained")
        async with ModelClient(forced) as client:
            reply = await client.complete(HELLO, tools=[ADD])
        sent = server.requests[0].body
    assert reply.text == "done"
    assert "tools" not in sent


async def test_the_envelope_leaves_out_length_limits_that_crash_llama_cpp() -> None:
    # llama.cpp turns maxLength 10000 into 10000 grammar rules and dies; the tool still
    # enforces the limit itself.
    calc = ToolDefinition(
        name="calculate",
        description="Evaluate arithmetic.",
        parameters={
            "type": "object",
            "properties": {"expression": {"type": "string", "maxLength": 10000}},
            "required": ["expression"],
        },
    )
    async with (
        ScriptedModelServer(
            [Reply(text=json.dumps({"final": "ok"}))],
            native_tools=False,
            response_formats=("json_object", "text"),
        ) as server,
        ModelClient(config(server.base_url)) as client,
    ):
        await client.complete(HELLO, tools=[calc])
        sent = server.requests[0].body
    schema = sent["response_format"]["schema"]
    arguments = schema["anyOf"][0]["properties"]["tool_calls"]["items"]["anyOf"][0]
    assert arguments["properties"]["arguments"]["properties"]["expression"] == {"type": "string"}
    assert "10000" not in json.dumps(schema)
