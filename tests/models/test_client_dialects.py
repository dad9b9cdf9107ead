"""Text-dialect tool calls as each model family documents them, read by the client over HTTP.

The replies below are typed from the forms in each family's model card or chat template,
not written by covey's renderer, and the scripted server sends them as plain `content`,
streamed in pieces of a few characters.
"""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

import pytest

from covey import (
    ModelClient,
    ModelConfig,
    ResponseDone,
    TextDelta,
    ToolCallDelta,
    ToolDefinition,
    UserMessage,
)
from covey.models import MalformedToolCall, StreamEvent, ToolCall
from covey.testing import Reply, ScriptedModelServer

NAMES = [
    *("get_stock_fundamentals", "get_current_temperature", "get_temperature_date"),
    *("get_current_conditions", "get_current_weather", "get_weather", "get_time"),
    *("math.factorial", "spotify.play"),
]
TOOLS = [
    ToolDefinition(name=name, description=f"The {name} tool.", parameters={"type": "object"})
    for name in NAMES
]
ASK = [UserMessage(content="What is the weather in Paris?")]
Expected = list[tuple[str, dict[str, Any], str]]

# Hermes 2 Pro writes "arguments" before "name"; Qwen2.5 one block per call, with text first.
HERMES_2_PRO = (
    '<tool_call>\n{"arguments": {"symbol": "TSLA"}, "name": "get_stock_fundamentals"}\n</tool_call>'
)
QWEN25 = (
    "I will check both.\n<tool_call>\n"
    '{"name": "get_current_temperature", "arguments": {"location": "Berlin, Germany"}}\n'
    "</tool_call>\n<tool_call>\n"
    '{"name": "get_temperature_date", "arguments": '
    '{"location": "Berlin, Germany", "date": "2024-11-05"}}\n</tool_call>'
)
# Llama 3.1 JSON tool calling (the whole reply), and Llama 3.1 with the ipython environment.
LLAMA31_JSON = (
    '{"name": "get_current_conditions", '
    '"parameters": {"location": "San Francisco, CA", "unit": "Fahrenheit"}}'
)
LLAMA31_PYTHON_TAG = (
    '<|python_tag|>{"name": "get_current_conditions", "parameters": {"location": "Menlo Park, CA"}}'
)
# Mistral v3 (7B v0.3: a space after the marker), Nemo (ids, no space), and v11 ([ARGS]).
MISTRAL_V3 = (
    '[TOOL_CALLS] [{"name": "get_current_weather", '
    '"arguments": {"location": "Paris, France", "format": "celsius"}}]'
)
MISTRAL_NEMO = (
    '[TOOL_CALLS][{"name": "get_current_weather", "arguments": {"location": "Lyon, France", '
    '"format": "celsius"}, "id": "A1b2C3d4E"}, {"name": "get_time", "arguments": '
    '{"timezone": "Europe/Paris"}, "id": "Z9y8X7w6V"}]'
)
MISTRAL_V11 = (
    '[TOOL_CALLS]get_current_weather[ARGS]{"location": "Nice, France", "format": "celsius"}'
    '[TOOL_CALLS]get_time[ARGS]{"timezone": "Europe/Paris"}'
)
# Llama 3.2 and Llama 4 pythonic: a list of calls; names with a namespace; or no list at all.
LLAMA32_PYTHONIC = "[get_weather(city='San Francisco', metric='celsius')]"
LLAMA4_PYTHONIC = (
    '[get_weather(location="Menlo Park, CA"), get_time(timezone="America/Los_Angeles")]'
)
LLAMA4_PYTHON_START = "<|python_start|>[get_time(timezone='Asia/Tokyo')]<|python_end|>"
NAMESPACED = "[spotify.play(artist='Taylor Swift', duration=20), math.factorial(number=5)]"
BARE = 'get_weather(city="Paris")'

CASES: list[tuple[str, str, Expected, str]] = [
    (
        "hermes-2-pro",
        HERMES_2_PRO,
        [("get_stock_fundamentals", {"symbol": "TSLA"}, "hermes")],
        "",
    ),
    (
        "qwen2.5",
        QWEN25,
        [
            ("get_current_temperature", {"location": "Berlin, Germany"}, "hermes"),
            (
                "get_temperature_date",
                {"location": "Berlin, Germany", "date": "2024-11-05"},
                "hermes",
            ),
        ],
        "I will check both.",
    ),
    (
        "llama3.1-json",
        LLAMA31_JSON,
        [
            (
                "get_current_conditions",
                {"location": "San Francisco, CA", "unit": "Fahrenheit"},
                "llama3",
            )
        ],
        "",
    ),
    (
        "llama3.1-python-tag",
        LLAMA31_PYTHON_TAG,
        [("get_current_conditions", {"location": "Menlo Park, CA"}, "python_tag")],
        "",
    ),
    (
        "mistral-v3",
        MISTRAL_V3,
        [("get_current_weather", {"location": "Paris, France", "format": "celsius"}, "mistral")],
        "",
    ),
    (
        "mistral-nemo",
        MISTRAL_NEMO,
        [
            ("get_current_weather", {"location": "Lyon, France", "format": "celsius"}, "mistral"),
            ("get_time", {"timezone": "Europe/Paris"}, "mistral"),
        ],
        "",
    ),
    (
        "mistral-v11",
        MISTRAL_V11,
        [
            ("get_current_weather", {"location": "Nice, France", "format": "celsius"}, "mistral"),
            ("get_time", {"timezone": "Europe/Paris"}, "mistral"),
        ],
        "",
    ),
    (
        "llama3.2-pythonic",
        LLAMA32_PYTHONIC,
        [("get_weather", {"city": "San Francisco", "metric": "celsius"}, "pythonic")],
        "",
    ),
    (
        "llama4-pythonic",
        LLAMA4_PYTHONIC,
        [
            ("get_weather", {"location": "Menlo Park, CA"}, "pythonic"),
            ("get_time", {"timezone": "America/Los_Angeles"}, "pythonic"),
        ],
        "",
    ),
    (
        "llama4-python-start",
        LLAMA4_PYTHON_START,
        [("get_time", {"timezone": "Asia/Tokyo"}, "pythonic")],
        "",
    ),
    (
        "namespaced-pythonic",
        NAMESPACED,
        [
            ("spotify.play", {"artist": "Taylor Swift", "duration": 20}, "pythonic"),
            ("math.factorial", {"number": 5}, "pythonic"),
        ],
        "",
    ),
    ("bare-pythonic", BARE, [("get_weather", {"city": "Paris"}, "pythonic")], ""),
]


def fast(base_url: str) -> ModelConfig:
    return ModelConfig(base_url=base_url, model="scripted", timeout=10.0, backoff_base=0.01)


async def collect(client: ModelClient) -> list[StreamEvent]:
    async with aclosing(client.stream(ASK, tools=TOOLS)) as stream:
        return [event async for event in stream]


@pytest.mark.parametrize(
    ("sample", "expected", "text"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
async def test_documented_text_calls_stream_as_tool_calls(
    sample: str, expected: Expected, text: str
) -> None:
    async with (
        ScriptedModelServer([Reply(text=sample), Reply(text=sample)]) as server,
        ModelClient(fast(server.base_url)) as client,
    ):
        events = await collect(client)
        full = await client.complete(ASK, tools=TOOLS)
    streamed = [e.call for e in events if isinstance(e, ToolCallDelta)]
    assert [(c.name, c.arguments, c.dialect) for c in streamed] == expected
    prefix = streamed[0].id.rsplit("_", 1)[0]
    assert [c.id for c in streamed] == [f"{prefix}_{i}" for i in range(len(expected))]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == text
    done = events[-1]
    assert isinstance(done, ResponseDone)
    assert done.response.tool_calls == tuple(streamed)
    assert done.response.malformed_tool_calls == ()
    assert done.response.finish_reason == "tool_calls"
    assert [(c.name, c.arguments, c.dialect) for c in full.tool_calls] == expected
    assert full.text == text


async def test_pythonic_call_of_a_tool_not_offered_streams_as_a_malformed_call() -> None:
    sample = "[math.sqrt(x=16)]"
    async with (
        ScriptedModelServer([Reply(text=sample), Reply(text=sample)]) as server,
        ModelClient(fast(server.base_url)) as client,
    ):
        events = await collect(client)
        full = await client.complete(ASK, tools=TOOLS)
    assert not any(isinstance(e, ToolCallDelta | TextDelta) for e in events)
    done = events[-1]
    assert isinstance(done, ResponseDone)
    for response in (done.response, full):
        assert (response.text, response.tool_calls) == ("", ())
        [bad] = response.malformed_tool_calls
        assert isinstance(bad, MalformedToolCall)
        assert (bad.name, bad.raw, bad.dialect) == ("math.sqrt", "math.sqrt(x=16)", "pythonic")
        assert "not one of your tools" in bad.error
        assert "math.factorial" in bad.error


@pytest.mark.parametrize(
    "sample", ["Use print(x) to see it.", "get_weather(city) gives the weather in a city."]
)
async def test_prose_that_mentions_a_function_is_the_answer(sample: str) -> None:
    async with (
        ScriptedModelServer([Reply(text=sample), Reply(text=sample)]) as server,
        ModelClient(fast(server.base_url)) as client,
    ):
        events = await collect(client)
        full = await client.complete(ASK, tools=TOOLS)
    done = events[-1]
    assert isinstance(done, ResponseDone)
    for response in (done.response, full):
        assert (response.text, response.tool_calls, response.malformed_tool_calls) == (
            sample,
            (),
            (),
        )
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == sample


async def test_scripted_server_writes_namespaced_pythonic_calls() -> None:
    written = ToolCall(id="w", name="math.factorial", arguments={"number": 6})
    reply = Reply(tool_calls=[written], dialect="pythonic")
    async with (
        ScriptedModelServer([reply]) as server,
        ModelClient(fast(server.base_url)) as client,
    ):
        events = await collect(client)
    streamed = [e.call for e in events if isinstance(e, ToolCallDelta)]
    assert [(c.name, c.arguments, c.dialect) for c in streamed] == [
        ("math.factorial", {"number": 6}, "pythonic")
    ]


async def test_constrained_envelope_is_read_with_the_same_json_repairs() -> None:
    # Trailing commas, as small models write them; text-dialect JSON has the same repair.
    envelope = (
        '```json\n{"tool_calls": [{"name": "get_time", "arguments": {"timezone": "UTC",},},],}\n```'
    )
    async with ScriptedModelServer([Reply(text=envelope), Reply(text=envelope)]) as server:
        config = ModelConfig(
            base_url=server.base_url, model="scripted", timeout=10.0, tool_mode="constrained"
        )
        async with ModelClient(config) as client:
            full = await client.complete(ASK, tools=TOOLS)
            events = await collect(client)
    streamed = [e.call for e in events if isinstance(e, ToolCallDelta)]
    for found in (full.tool_calls, streamed):
        assert [(c.name, c.arguments, c.dialect) for c in found] == [
            ("get_time", {"timezone": "UTC"}, "envelope")
        ]
    assert full.text == ""


async def test_a_constrained_envelope_cut_off_is_a_malformed_call_not_an_answer() -> None:
    # SmolLM2-135M under the envelope grammar repeated one call until max_tokens cut it off;
    # the broken envelope was taken as the final answer before.
    cut = '{"tool_calls": [{"name": "get_time", "arguments": {}}, {"name": "get_time", "argu'
    async with ScriptedModelServer([Reply(text=cut)]) as server:
        config = ModelConfig(
            base_url=server.base_url, model="scripted", timeout=10.0, tool_mode="constrained"
        )
        async with ModelClient(config) as client:
            response = await client.complete(ASK, tools=TOOLS)
    assert response.text == "" and response.tool_calls == ()
    [bad] = response.malformed_tool_calls
    assert "cut off or broken" in bad.error and '{"final": ...}' in bad.error
