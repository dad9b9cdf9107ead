"""covey's embedded model server on the real 270M GGUF: prompts, caps, cancellation, lifetime."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import httpx2 as httpx
import openai
import pytest
import pytest_asyncio

from covey import EmbeddedModel, ModelClient, ModelSettings, ToolDefinition, UserMessage
from covey.testing import first_line
from tests.embedded import MARKS

pytestmark = MARKS

TRICKY = "it's <b>\"bold\"</b> & SELECT * FROM t WHERE a < 3 AND b > 'x'; -- &amp; &#39;"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def server() -> AsyncIterator[EmbeddedModel]:
    async with EmbeddedModel(n_ctx=2048, max_tokens=16) as embedded:
        yield embedded


def root(embedded: EmbeddedModel) -> str:
    return embedded.base_url.removesuffix("/v1")


async def status(embedded: EmbeddedModel) -> dict[str, object]:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(f"{root(embedded)}/covey/status")
    response.raise_for_status()
    return dict(response.json())


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 60) -> None:
    """Wait until `check()` holds, polling; fail after `seconds`."""
    with anyio.fail_after(seconds):
        while not await check():  # noqa: ASYNC110 (the state is in another process)
            await anyio.sleep(0.05)


async def busy(embedded: EmbeddedModel) -> bool:
    return bool((await status(embedded))["busy"])


async def idle(embedded: EmbeddedModel) -> dict[str, object]:
    """The status once no generation runs (within 60 s: one token takes far less)."""

    async def free() -> bool:
        return not await busy(embedded)

    await until(free)
    return await status(embedded)


def story(*, max_tokens: int) -> dict[str, object]:
    """A request that generates exactly `max_tokens` tokens unless it is cancelled."""
    return {
        "model": "gemma3-270m",
        "messages": [{"role": "user", "content": "Write a story."}],
        "max_tokens": max_tokens,
        "ignore_eos": True,
    }


async def test_tool_results_reach_the_model_byte_for_byte(server: EmbeddedModel) -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "q", "arguments": "{}"}}
    body = {
        "messages": [
            {"role": "system", "content": "Answer from the tool."},
            {"role": "user", "content": f"Look up {TRICKY}"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "c1", "content": TRICKY},
        ],
        "tools": [{"type": "function", "function": {"name": "q", "description": "<q> & 'x'"}}],
    }
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(f"{root(server)}/covey/render", json=body)
    prompt = response.json()["prompt"]
    assert prompt.count(TRICKY) == 2  # the user's text and the tool's result, unchanged
    assert f"<tool_response>\n{TRICKY}\n</tool_response>" in prompt
    assert '"description": "<q> & \'x\'"' in prompt
    assert "&lt;" not in prompt and "&#39;" not in prompt.replace(TRICKY, "")
    assert prompt.endswith("<start_of_turn>model\n")


async def test_a_request_without_max_tokens_gets_the_servers_cap(server: EmbeddedModel) -> None:
    async with openai.AsyncOpenAI(base_url=server.base_url, api_key="x", timeout=120) as client:
        reply = await client.chat.completions.create(
            model="gemma3-270m",
            messages=[{"role": "user", "content": "Count from one to one thousand."}],
            extra_body={"ignore_eos": True},
        )
    assert reply.usage is not None and reply.usage.completion_tokens == 16
    assert reply.choices[0].finish_reason == "length"


async def test_an_abandoned_request_stops_generating_and_the_next_is_answered(
    server: EmbeddedModel,
) -> None:
    before = await idle(server)
    async with openai.AsyncOpenAI(
        base_url=server.base_url, api_key="x", timeout=2.0, max_retries=0
    ) as impatient:
        with pytest.raises(openai.APITimeoutError):
            await impatient.chat.completions.create(
                model="gemma3-270m",
                messages=[{"role": "user", "content": "Write a very long story."}],
                max_tokens=1800,
                extra_body={"ignore_eos": True},
            )
    after = await idle(server)
    assert after["cancelled"] == int(str(before["cancelled"])) + 1
    assert after["last_end"] == "cancelled"
    assert int(str(after["last_tokens"])) < 1800  # it stopped early, not at max_tokens
    async with openai.AsyncOpenAI(base_url=server.base_url, api_key="x", timeout=60) as client:
        reply = await client.chat.completions.create(
            model="gemma3-270m", messages=[{"role": "user", "content": "Hi"}], max_tokens=4
        )
    assert reply.usage is not None and 1 <= reply.usage.completion_tokens <= 4


async def test_a_stream_closed_early_stops_generating(server: EmbeddedModel) -> None:
    before = await idle(server)
    async with openai.AsyncOpenAI(base_url=server.base_url, api_key="x", timeout=60) as client:
        stream = await client.chat.completions.create(
            model="gemma3-270m",
            messages=[{"role": "user", "content": "Write a very long story."}],
            max_tokens=1800,
            stream=True,
            extra_body={"ignore_eos": True},
        )
        seen = 0
        async for chunk in stream:
            seen += bool(chunk.choices and chunk.choices[0].delta.content)
            if seen == 3:
                break
        await stream.close()
    after = await idle(server)
    assert after["cancelled"] == int(str(before["cancelled"])) + 1
    assert int(str(after["last_tokens"])) < 1800


async def test_a_queued_request_whose_client_left_is_never_generated(
    server: EmbeddedModel,
) -> None:
    before = await idle(server)
    long = story(max_tokens=120)
    async with httpx.AsyncClient(timeout=120) as http, anyio.create_task_group() as group:
        group.start_soon(partial(http.post, f"{server.base_url}/chat/completions", json=long))
        await until(partial(busy, server))
        async with httpx.AsyncClient(timeout=0.5) as impatient:
            with pytest.raises(httpx.ReadTimeout):
                await impatient.post(f"{server.base_url}/chat/completions", json=long)
    after = await idle(server)
    assert after["served"] == int(str(before["served"])) + 1  # only the first one ran
    assert after["cancelled"] == before["cancelled"]


PARENT = textwrap.dedent(
    """
    import anyio, sys
    from covey import EmbeddedModel, ModelClient, ModelSettings, ToolDefinition, UserMessage

    async def main():
        async with EmbeddedModel(n_ctx=256) as embedded:
            print(embedded.pid, flush=True)
            await anyio.sleep(600)

    anyio.run(main)
    """
)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")  # a zombie has exited; only its parent's wait is missing


async def gone(pid: int) -> bool:
    return not alive(pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux only)")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
async def test_the_model_server_dies_with_its_killed_parent(how: signal.Signals) -> None:
    command = [sys.executable, "-c", PARENT]
    async with await anyio.open_process(command, stderr=subprocess.DEVNULL) as parent:
        assert parent.stdout is not None
        child = int(await first_line(parent, timeout=180))
        assert alive(child)
        parent.send_signal(how)
        with anyio.fail_after(30):
            await parent.wait()
        with anyio.move_on_after(30):
            await until(partial(gone, child))
    assert not alive(child), f"the model server {child} outlived its parent ({how.name})"


async def test_models_answers_while_a_generation_runs(server: EmbeddedModel) -> None:
    long = story(max_tokens=1800)
    listed: dict[str, Any] = {}
    still_busy: object = False
    async with httpx.AsyncClient(timeout=120) as http, anyio.create_task_group() as group:
        group.start_soon(partial(http.post, f"{server.base_url}/chat/completions", json=long))
        await until(partial(busy, server))
        listed = (await http.get(f"{server.base_url}/models")).json()
        still_busy = (await status(server))["busy"]
        group.cancel_scope.cancel()  # the long request is abandoned, and so stops
    await idle(server)
    assert still_busy  # answered before the generation ended
    assert listed["data"][0]["id"] == "gemma3-270m"
    assert listed["data"][0]["meta"]["slots"] == server.slots == 1
    # Gemma 3 270M's own template describes no tools: covey's rendering prompts it.
    assert listed["data"][0]["meta"]["template"] == "covey"


async def test_constrained_mode_with_a_long_length_limit_does_not_crash_the_server(
    server: EmbeddedModel,
) -> None:
    # llama.cpp turns maxLength 10000 into 10000 grammar rules and segfaults; the calc
    # server's `expression` has that limit.
    calc = ToolDefinition(
        name="calculate",
        description="Evaluate arithmetic.",
        parameters={
            "type": "object",
            "properties": {"expression": {"type": "string", "maxLength": 10000}},
            "required": ["expression"],
        },
    )
    config = replace(server.config, tool_mode="constrained")
    async with ModelClient(config) as client:
        reply = await client.complete(
            [UserMessage(content="What is 2 + 3?")],
            tools=[calc],
            settings=ModelSettings(temperature=0.0, max_tokens=48),
        )
    assert reply.finish_reason in ("stop", "length", "tool_calls")
    assert (await status(server))["last_end"] in ("stop", "length")  # it is still serving
