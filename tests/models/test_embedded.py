"""Smoke suite on the embedded llama.cpp model (a real 270M GGUF, real HTTP).

A 270M base model answers poorly; these tests check the path (real completions, real
grammar-constrained tool calls and JSON), not the quality of the answers.
"""

from __future__ import annotations

import os
import signal
import sys
from contextlib import aclosing

import anyio
import openai
import pydantic
import pytest

from covey import (
    EmbeddedModel,
    EmbeddedModelError,
    ModelClient,
    ModelConnectionError,
    ModelSettings,
    OutputSchema,
    ResponseDone,
    TextDelta,
    ToolDefinition,
    UserMessage,
)
from covey.testing import first_line
from tests.embedded import MARKS, embedded_model

pytestmark = MARKS
model = embedded_model

WEATHER = ToolDefinition(
    name="get_weather",
    description="Current weather for a city.",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
)
SHORT = ModelSettings(temperature=0.0, max_tokens=24)


class Capital(pydantic.BaseModel):
    country: str
    capital: str


async def test_plain_completion(model: ModelClient) -> None:
    reply = await model.complete(
        [UserMessage(content="What is the capital of France?")], settings=SHORT
    )
    assert reply.text.strip()
    assert reply.usage.input_tokens > 0
    assert reply.usage.output_tokens > 0
    assert reply.finish_reason in ("stop", "length")


async def test_streamed_completion(model: ModelClient) -> None:
    pieces: list[str] = []
    async with aclosing(model.stream([UserMessage(content="Say hello.")], settings=SHORT)) as s:
        async for event in s:
            if isinstance(event, TextDelta):
                pieces.append(event.text)
            elif isinstance(event, ResponseDone):
                final = event.response
    assert pieces
    assert "".join(pieces) == final.text


async def test_probing_finds_tools_and_json_schema(model: ModelClient) -> None:
    caps = await model.capabilities()
    assert caps.native_tools
    assert "named" in caps.tool_choice
    assert caps.structured_output == "json_schema"


async def test_a_real_tool_call_for_a_given_tool(model: ModelClient) -> None:
    reply = await model.complete(
        [UserMessage(content="What is the weather in Paris?")],
        tools=[WEATHER],
        tool_choice="get_weather",
        settings=ModelSettings(temperature=0.0, max_tokens=64),
    )
    assert reply.malformed_tool_calls == ()
    (call,) = reply.tool_calls
    assert call.name == "get_weather"
    assert call.dialect == "native"
    assert isinstance(call.arguments.get("city"), str)


async def test_a_json_answer_that_validates(model: ModelClient) -> None:
    schema = OutputSchema(name="capital", schema=Capital.model_json_schema())
    reply = await model.complete(
        [UserMessage(content="What is the capital of France? Answer in JSON.")],
        output=schema,
        settings=ModelSettings(temperature=0.0, max_tokens=64),
    )
    answer = Capital.model_validate_json(reply.text)
    assert isinstance(answer.capital, str)


async def test_the_embedded_server_counts_tokens_with_its_own_tokenizer(
    model: ModelClient,
) -> None:
    from covey.models import Tokenizer

    tokens = Tokenizer(model)
    short = await tokens.count_text("Hello")
    longer = await tokens.count_text("Hello, world. " * 20)
    assert tokens.method == "extras"  # llama-cpp-python's /extras/tokenize/count
    assert 1 <= short <= 3 and 40 <= longer <= 120


async def test_covey_model_serve_prints_the_url_and_stops_on_ctrl_c() -> None:
    command = [sys.executable, "-m", "covey.cli", "model", "serve", "--n-ctx", "512"]
    async with await anyio.open_process(command) as process:
        url = await first_line(process, timeout=180)
        assert url.startswith("http://127.0.0.1:")
        async with openai.AsyncOpenAI(base_url=url, api_key="x", max_retries=0) as client:
            models = await client.models.list()
        assert models.data[0].id == "gemma3-270m"
        process.send_signal(signal.SIGINT)
        with anyio.fail_after(30):
            code = await process.wait()
    assert code == 0


async def test_a_server_that_dies_mid_run_is_named_with_its_log() -> None:
    with pytest.raises(EmbeddedModelError) as caught:
        async with EmbeddedModel(n_ctx=512) as embedded, embedded.client() as client:
            pid = embedded.pid
            os.kill(pid, signal.SIGKILL)
            await client.complete(
                [UserMessage(content="Hello")], settings=ModelSettings(max_tokens=1)
            )
    message = str(caught.value)
    assert f"pid {pid}) was killed by SIGKILL while covey was using it" in message
    assert "Its log ends with:\n" in message and "COVEY_BASE_URL" in message
    assert isinstance(caught.value.__cause__, ModelConnectionError)
