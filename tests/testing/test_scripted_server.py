"""The scripted model server, driven by the real `openai` client over HTTP."""

from __future__ import annotations

import math

import anyio
import openai
import pytest

from covey.testing import (
    ChatRequest,
    Fault,
    Reply,
    ScriptedModelServer,
    ScriptError,
    scripted_server_process,
)

HI = [{"role": "user", "content": "hi there"}]


def client(server: ScriptedModelServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.base_url, api_key="x", max_retries=0)


async def test_unused_steps_and_unexpected_requests_are_errors() -> None:
    with pytest.raises(ScriptError, match="never requested"):
        async with ScriptedModelServer([Reply(text="a"), Reply(text="b")]) as server:
            async with client(server) as c:
                await c.chat.completions.create(model="m", messages=HI)  # type: ignore[arg-type]
    with pytest.raises(ScriptError, match="after the script was used up"):
        async with ScriptedModelServer([Reply(text="a")]) as server:
            async with client(server) as c:
                await c.chat.completions.create(model="m", messages=HI)  # type: ignore[arg-type]
                with pytest.raises(openai.InternalServerError):
                    await c.chat.completions.create(model="m", messages=HI)  # type: ignore[arg-type]


async def test_rejected_capabilities_are_400_and_consume_no_step() -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    async with ScriptedModelServer([Reply(text="ok")], native_tools=False) as server:
        async with client(server) as c:
            with pytest.raises(openai.BadRequestError, match="does not support 'tools'"):
                await c.chat.completions.create(model="m", messages=HI, tools=[tool])  # type: ignore[arg-type,list-item]
            reply = await c.chat.completions.create(model="m", messages=HI)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == "ok"


async def test_faults_reach_the_client() -> None:
    script = [Fault.status(429, retry_after=1), Fault.status(503), Fault.disconnect()]
    async with ScriptedModelServer(script) as server, client(server) as c:
        with pytest.raises(openai.RateLimitError) as limited:
            await c.chat.completions.create(model="m", messages=HI)  # type: ignore[arg-type]
        with pytest.raises(openai.InternalServerError):
            await c.chat.completions.create(model="m", messages=HI)  # type: ignore[arg-type]
        with pytest.raises(openai.APIConnectionError):
            await c.chat.completions.create(model="m", messages=HI)  # type: ignore[arg-type]
    assert limited.value.response.headers["retry-after"] == "1"


async def test_async_policies_see_each_request() -> None:
    seen: list[str] = []

    async def policy(request: ChatRequest) -> Reply:
        seen.append(request.last_user_text)
        return Reply(text=request.last_user_text[::-1])

    async with ScriptedModelServer(policy=policy) as server, client(server) as c:
        reply = await c.chat.completions.create(model="m", messages=HI)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == "ereht ih"
    assert seen == ["hi there"]


async def test_embeddings_put_related_texts_closer() -> None:
    async with ScriptedModelServer() as server, client(server) as c:
        result = await c.embeddings.create(
            model="m", input=["the cat sat on the mat", "a cat on a mat", "stock prices fell"]
        )
    a, b, far = (d.embedding for d in result.data)
    assert math.isclose(sum(x * x for x in a), 1.0, rel_tol=1e-6)
    dot = lambda u, v: sum(x * y for x, y in zip(u, v, strict=True))  # noqa: E731
    assert dot(a, b) > dot(a, far)


async def test_two_hundred_concurrent_requests_are_all_answered() -> None:
    answers: dict[int, str] = {}
    async with ScriptedModelServer(policy=lambda r: Reply(text=r.last_user_text)) as server:
        async with client(server) as c:

            async def one(i: int) -> None:
                reply = await c.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": f"n{i}"}]
                )
                answers[i] = reply.choices[0].message.content or ""

            async with anyio.create_task_group() as group:
                for i in range(200):
                    group.start_soon(one, i)
    assert answers == {i: f"n{i}" for i in range(200)}


async def test_the_command_line_server_answers_and_stops() -> None:
    async with scripted_server_process() as url:
        async with openai.AsyncOpenAI(base_url=url, api_key="x", max_retries=0) as c:
            reply = await c.chat.completions.create(model="m", messages=HI)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == "echo: hi there"
