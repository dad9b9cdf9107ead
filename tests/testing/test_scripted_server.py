"""The scripted model server, driven by the real `openai` client over real HTTP."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import openai
import pytest
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    ChatCompletionMessageFunctionToolCall,
)

import covey.testing
from covey import UsageError
from covey.models import ToolCall
from covey.models._dialects import DIALECTS, Dialect, parse_text
from covey.testing import (
    ChatRequest,
    Fault,
    Reply,
    ScriptedModelServer,
    ScriptError,
    Step,
    first_line,
)

ROOT = Path(__file__).parents[2]
ADD = ToolCall(id="c1", name="add", arguments={"a": 1, "b": 22})
TOOL = {"type": "function", "function": {"name": "add", "parameters": {"type": "object"}}}


def client(server: ScriptedModelServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.base_url, api_key="x", max_retries=0)


async def ask(c: openai.AsyncOpenAI, text: str = "hi there", **extra: Any) -> ChatCompletion:
    create: Any = c.chat.completions.create
    return await create(model="m", messages=[{"role": "user", "content": text}], **extra)


async def open_stream(
    c: openai.AsyncOpenAI, text: str = "hi there", **extra: Any
) -> openai.AsyncStream[ChatCompletionChunk]:
    stream: Any = await ask(c, text, stream=True, **extra)
    return stream


async def ask_stream(
    c: openai.AsyncOpenAI, text: str = "hi there", **extra: Any
) -> list[ChatCompletionChunk]:
    return [chunk async for chunk in await open_stream(c, text, **extra)]


def function_calls(message: ChatCompletionMessage) -> list[tuple[str, str, str]]:
    calls: list[tuple[str, str, str]] = []
    for call in message.tool_calls or []:
        assert isinstance(call, ChatCompletionMessageFunctionToolCall)
        calls.append((call.id, call.function.name, call.function.arguments))
    return calls


def streamed_text(chunks: list[ChatCompletionChunk]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


async def test_text_reply_with_usage_and_recorded_request() -> None:
    async with ScriptedModelServer([Reply(text="hello you two")], model="qwen") as server:
        async with client(server) as c:
            reply = await ask(c, "one two three")
    assert reply.choices[0].message.content == "hello you two"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.model == "qwen"
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (3, 3)
    assert reply.usage.total_tokens == 6
    (request,) = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer x"
    assert request.last_user_text == "one two three"
    assert (request.model, request.stream, request.tools) == ("m", False, [])


async def test_streamed_text_comes_in_several_chunks_then_usage_then_done() -> None:
    text = "a streamed answer long enough to need several chunks"
    async with ScriptedModelServer([Reply(text=text)]) as server, client(server) as c:
        chunks = await ask_stream(c, stream_options={"include_usage": True})
    content = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(content) > 3
    assert chunks[0].choices[0].delta.role == "assistant"
    assert streamed_text(chunks) == text
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == len(text.split())
    assert server.requests[0].stream


async def test_usage_chunk_only_when_asked_and_usage_can_be_scripted() -> None:
    script = [Reply(text="x"), Reply(text="y", usage=(7, 3), model="other")]
    async with ScriptedModelServer(script) as server, client(server) as c:
        plain = await ask_stream(c)
        scripted = await ask(c)
    assert all(chunk.usage is None for chunk in plain)
    assert scripted.usage is not None
    assert (scripted.usage.prompt_tokens, scripted.usage.total_tokens) == (7, 10)
    assert scripted.model == "other"


async def test_native_tool_calls_full() -> None:
    second = ToolCall(id="c2", name="mul", arguments={"x": [1, 2], "y": "three"})
    async with ScriptedModelServer([Reply(tool_calls=[ADD, second])]) as server:
        async with client(server) as c:
            reply = await ask(c, tools=[TOOL])
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = [(i, name, json.loads(args)) for i, name, args in function_calls(choice.message)]
    assert calls == [("c1", "add", {"a": 1, "b": 22}), ("c2", "mul", {"x": [1, 2], "y": "three"})]
    assert reply.usage is not None
    assert reply.usage.completion_tokens == 4 + 5  # words of each call's JSON arguments


async def test_native_tool_calls_streamed_reassemble_from_deltas() -> None:
    big = ToolCall(id="c9", name="write", arguments={"path": "/tmp/x", "text": "lorem ipsum " * 5})
    async with ScriptedModelServer([Reply(text="Sure.", tool_calls=[ADD, big])]) as server:
        async with client(server) as c:
            chunks = await ask_stream(c, tools=[TOOL])
    calls: dict[int, dict[str, str]] = {}
    argument_deltas = 0
    for chunk in chunks:
        for delta in chunk.choices[0].delta.tool_calls or []:
            call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
            if delta.id:
                assert call["id"] == "" and delta.function and delta.function.name
                call["id"], call["name"] = delta.id, delta.function.name
            if delta.function and delta.function.arguments:
                call["arguments"] += delta.function.arguments
                argument_deltas += 1
    assert argument_deltas > 4
    assert [(c["id"], c["name"], json.loads(c["arguments"])) for c in calls.values()] == [
        ("c1", "add", ADD.arguments),
        ("c9", "write", big.arguments),
    ]
    assert streamed_text(chunks) == "Sure."
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


async def test_reasoning_goes_in_reasoning_content() -> None:
    reply = Reply(text="4", reasoning="two plus two is four", finish_reason="length")
    async with ScriptedModelServer([reply, reply]) as server, client(server) as c:
        full = await ask(c)
        chunks = await ask_stream(c)
    assert full.choices[0].message.model_extra == {"reasoning_content": "two plus two is four"}
    assert full.choices[0].finish_reason == "length"
    pieces = [(c.choices[0].delta.model_extra or {}).get("reasoning_content") for c in chunks]
    assert "".join(p for p in pieces if p) == "two plus two is four"
    assert streamed_text(chunks) == "4"


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_dialects_write_tool_calls_into_the_text(dialect: Dialect) -> None:
    text = "Let me add." if dialect in ("hermes", "mistral") else ""
    reply = Reply(text=text, tool_calls=[ADD], dialect=dialect)
    async with ScriptedModelServer([reply, reply]) as server, client(server) as c:
        full = await ask(c, tools=[TOOL])
        chunks = await ask_stream(c, tools=[TOOL])
    message = full.choices[0].message
    assert message.tool_calls is None
    assert full.choices[0].finish_reason == "stop"
    assert message.content is not None and streamed_text(chunks) == message.content
    parsed = parse_text(message.content, tool_names=["add"])
    assert [(c.name, c.arguments) for c in parsed.tool_calls] == [("add", ADD.arguments)]
    assert parsed.text == text.strip()


async def test_status_faults_become_openai_errors() -> None:
    script: list[Step] = [
        Fault.status(429, "slow down", retry_after=2),
        Fault.status(500, "backend exploded"),
        Fault.status(404, "model 'm' not found"),
    ]
    async with ScriptedModelServer(script) as server, client(server) as c:
        with pytest.raises(openai.RateLimitError, match="slow down") as limited:
            await ask(c)
        with pytest.raises(openai.InternalServerError, match="backend exploded") as failed:
            await ask(c)
        with pytest.raises(openai.NotFoundError):
            await ask(c)
    assert limited.value.response.headers["retry-after"] == "2"
    assert failed.value.body == {
        "message": "backend exploded",
        "type": "server_error",
        "param": None,
        "code": 500,
    }


async def test_garbage_disconnect_and_malformed_arguments() -> None:
    script = [
        Fault.garbage(),
        Fault.disconnect(),
        Reply(tool_calls=[ADD], malformed_arguments=True),
        Reply(tool_calls=[ADD], malformed_arguments=True),
    ]
    async with ScriptedModelServer(script) as server, client(server) as c:
        with pytest.raises(ValueError, match="Expecting value"):  # the SDK lets it escape raw
            await ask(c)
        with pytest.raises(openai.APIConnectionError):
            await ask(c)
        full = await ask(c)
        chunks = await ask_stream(c)
    ((_, name, arguments),) = function_calls(full.choices[0].message)
    assert name == "add"
    with pytest.raises(json.JSONDecodeError):
        json.loads(arguments)
    streamed = "".join(
        d.function.arguments or ""
        for chunk in chunks
        for d in chunk.choices[0].delta.tool_calls or []
        if d.function
    )
    assert streamed == arguments


async def test_cut_streams_and_cut_bodies_fail_in_the_client() -> None:
    text = "this answer is cut off before it ends"
    script = [Reply(text=text, cut_after_chunks=3), Reply(text=text, cut_after_chunks=0)]
    received: list[str] = []
    async with ScriptedModelServer(script) as server, client(server) as c:
        stream = await open_stream(c)
        with pytest.raises(openai.APIConnectionError):
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content or "")
        with pytest.raises(openai.APIConnectionError):
            await ask(c)
    assert "".join(received) == text[:16]  # role chunk, then two 8-character pieces


async def test_delay_holds_the_answer_back() -> None:
    script = [Reply(text="slow", delay=3600), Reply(text="fast"), Fault.status(503, delay=3600)]
    with anyio.fail_after(20):  # the server's exit must cancel the two sleeping connections
        async with ScriptedModelServer(script) as server, client(server) as c:
            with anyio.move_on_after(0.3) as slow:
                await ask(c)
            with anyio.fail_after(10):
                assert (await ask(c)).choices[0].message.content == "fast"
            with pytest.raises(openai.APITimeoutError):
                await ask(c, timeout=0.3)
    assert slow.cancelled_caught


async def test_unused_steps_and_unexpected_requests_raise_script_error() -> None:
    with pytest.raises(ScriptError, match=r"1 scripted step.*never requested.*'b'"):
        async with ScriptedModelServer([Reply(text="a"), Reply(text="b")]) as server:
            async with client(server) as c:
                await ask(c)
    async with ScriptedModelServer([Reply(text="a")], allow_unused=True):
        pass
    server = ScriptedModelServer([Reply(text="a")])
    with pytest.raises(ScriptError, match="after the script was used up"):
        async with server, client(server) as c:
            await ask(c)
            with pytest.raises(openai.InternalServerError, match="'one more'"):
                await ask(c, "one more")
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("settings", "request_fields", "message"),
    [
        ({"native_tools": False}, {"tools": [TOOL]}, "does not support 'tools'"),
        ({"tool_choice": ("auto",)}, {"tools": [TOOL], "tool_choice": "required"}, "'required'"),
        (
            {"tool_choice": ("auto", "none")},
            {"tools": [TOOL], "tool_choice": {"type": "function", "function": {"name": "add"}}},
            "tool_choice",
        ),
        ({"response_formats": ("text",)}, {"response_format": {"type": "json_object"}}, "json_"),
    ],
)
async def test_unsupported_capabilities_get_400_and_use_no_step(
    settings: dict[str, Any], request_fields: dict[str, Any], message: str
) -> None:
    async with ScriptedModelServer([Reply(text="ok")], **settings) as server, client(server) as c:
        with pytest.raises(openai.BadRequestError, match=message):
            await ask(c, **request_fields)
        with pytest.raises(openai.BadRequestError, match=message):  # probes are checked too
            await ask(c, max_tokens=1, **request_fields)
        assert (await ask(c)).choices[0].message.content == "ok"
    assert [len(server.rejected_requests), len(server.probe_requests)] == [1, 1]
    assert len(server.requests) == 1


async def test_supported_capabilities_are_accepted() -> None:
    fields: dict[str, Any] = {
        "tools": [TOOL],
        "tool_choice": {"type": "function", "function": {"name": "add"}},
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}},
    }
    async with ScriptedModelServer([Reply(text="{}")]) as server, client(server) as c:
        await ask(c, **fields)
    (request,) = server.requests
    assert request.tool_names == ["add"]
    assert request.tool_choice == fields["tool_choice"]
    assert request.response_format == fields["response_format"]


async def test_probe_requests_use_no_step_and_call_no_policy() -> None:
    calls: list[ChatRequest] = []

    def policy(request: ChatRequest) -> Reply:
        calls.append(request)
        return Reply(text="real")

    async with ScriptedModelServer([Reply(text="real")]) as server, client(server) as c:
        probe = await ask(c, max_tokens=1)
        await ask(c, max_completion_tokens=1, stream=True)
        assert (await ask(c)).choices[0].message.content == "real"
    assert probe.choices[0].finish_reason == "length"
    assert [r.is_probe for r in server.probe_requests] == [True, True]
    assert len(server.requests) == 1
    async with ScriptedModelServer(policy=policy) as server, client(server) as c:
        await ask(c, max_tokens=1)
    assert calls == []


async def test_policies_sync_and_async_see_each_request() -> None:
    def oracle(request: ChatRequest) -> Step:
        if request.last_tool_result is not None:
            return Reply(text=f"The result is {request.last_tool_result}.")
        return Reply(tool_calls=[ADD])

    async def reverse(request: ChatRequest) -> Reply:
        await anyio.lowlevel.checkpoint()
        return Reply(text=request.last_user_text[::-1])

    async with ScriptedModelServer(policy=oracle) as server, client(server) as c:
        first = await ask(c, "add 1 and 22", tools=[TOOL])
        ((call_id, _, _),) = function_calls(first.choices[0].message)
        create: Any = c.chat.completions.create
        messages = [
            {"role": "user", "content": "add 1 and 22"},
            first.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call_id, "content": "23"},
        ]
        second = await create(model="m", messages=messages)
    assert second.choices[0].message.content == "The result is 23."
    assert server.requests[0].last_tool_result is None
    async with ScriptedModelServer(policy=reverse) as server, client(server) as c:
        assert (await ask(c)).choices[0].message.content == "ereht ih"


async def test_failing_policies_and_unwritable_replies_raise_script_error() -> None:
    def broken(request: ChatRequest) -> Reply:
        raise RuntimeError("oracle bug")

    with pytest.raises(ScriptError, match="oracle bug") as caught:
        async with ScriptedModelServer(policy=broken) as server, client(server) as c:
            with pytest.raises(openai.InternalServerError, match="oracle bug"):
                await ask(c)
    assert isinstance(caught.value.__cause__, RuntimeError)
    wrong: Any = lambda request: "hello"  # noqa: E731
    with pytest.raises(ScriptError, match="not a Reply or Fault"):
        async with ScriptedModelServer(policy=wrong) as server, client(server) as c:
            with pytest.raises(openai.InternalServerError):
                await ask(c)
    bad_name = ToolCall(id="c1", name="not valid", arguments={})
    with pytest.raises(ScriptError, match="pythonic"):
        async with ScriptedModelServer([Reply(tool_calls=[bad_name], dialect="pythonic")]) as s:
            async with client(s) as c:
                with pytest.raises(openai.InternalServerError):
                    await ask(c)


async def test_misuse_is_reported_clearly() -> None:
    server = ScriptedModelServer()
    with pytest.raises(UsageError, match="not running"):
        _ = server.base_url
    async with server:
        pass
    with pytest.raises(UsageError, match="already been started"):
        async with server:
            pass
    with pytest.raises(UsageError, match="not both"):
        ScriptedModelServer([Reply()], policy=lambda request: Reply())
    with pytest.raises(UsageError, match="Unknown dialect"):
        Reply(dialect="klingon")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=r"Fault\.status"):
        Fault()
    with pytest.raises(UsageError, match="400-599"):
        Fault.status(200)


async def test_models_and_unknown_routes() -> None:
    async with ScriptedModelServer(model="tiny-llama") as server, client(server) as c:
        models = [m.id async for m in c.models.list()]
        with pytest.raises(openai.NotFoundError, match="No route"):
            await c.completions.create(model="m", prompt="hi")
    assert models == ["tiny-llama"]


async def test_embeddings_are_normalised_and_put_related_texts_closer() -> None:
    texts = ["the cat sat on the mat", "a cat on a mat", "stock prices fell sharply"]
    async with ScriptedModelServer(embedding_dim=32) as server, client(server) as c:
        packed = await c.embeddings.create(model="m", input=texts)
        floats = await c.embeddings.create(model="m", input=texts, encoding_format="float")
        wide = await c.embeddings.create(model="m", input="the cat", dimensions=128)
    a, b, far = (d.embedding for d in floats.data)

    def dot(u: list[float], v: list[float]) -> float:
        return sum(x * y for x, y in zip(u, v, strict=True))

    assert len(a) == 32 and len(wide.data[0].embedding) == 128
    assert math.isclose(dot(a, a), 1.0, rel_tol=1e-9)
    assert dot(a, b) > dot(a, far)
    assert a == server.embed(texts[0])
    for p, f in zip(packed.data, floats.data, strict=True):
        assert p.embedding == pytest.approx(f.embedding, abs=1e-6)
    assert floats.usage.prompt_tokens == 6 + 5 + 4


async def test_two_hundred_concurrent_requests_are_all_answered() -> None:
    answers: dict[int, str] = {}
    async with (
        ScriptedModelServer(policy=lambda request: Reply(text=request.last_user_text)) as server,
        client(server) as c,
    ):

        async def one(i: int) -> None:
            answer: Any = await ask(c, f"n{i}", stream=i % 2 == 0)
            if isinstance(answer, ChatCompletion):
                answers[i] = answer.choices[0].message.content or ""
            else:
                answers[i] = streamed_text([chunk async for chunk in answer])

        async with anyio.create_task_group() as group:
            for i in range(200):
                group.start_soon(one, i)
    assert answers == {i: f"n{i}" for i in range(200)}
    assert len(server.requests) == 200


async def test_keep_alive_and_body_limit_over_a_raw_socket() -> None:
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode()
    head = b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n"
    async with ScriptedModelServer(policy=lambda r: Reply(text="yo"), max_body=500) as server:
        port = int(server.base_url.rsplit(":", 1)[1].split("/")[0])
        async with await anyio.connect_tcp("127.0.0.1", port) as sock:
            for _ in range(2):  # two answers on one connection
                await sock.send(head % len(body) + body)
                assert b'"content":"yo"' in await sock.receive()
            await sock.send(head % 501 + b"x" * 501)
            refused = await sock.receive()
    assert refused.startswith(b"HTTP/1.1 413 ")
    assert len(server.requests) == 2


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name, value in vars(covey.testing).items()
        if not name.startswith("_") and name != "annotations" and not isinstance(value, type(covey))
    }
    assert set(covey.testing.__all__) == public


async def test_command_line_echo_server_answers_and_stops_cleanly() -> None:
    command = [sys.executable, "-m", "covey.testing", "--echo", "--model", "echoer"]
    async with await anyio.open_process(command, cwd=ROOT) as process:
        url = await first_line(process)
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        async with openai.AsyncOpenAI(base_url=url, api_key="x", max_retries=0) as c:
            reply = await ask(c)
        process.terminate()
        with anyio.fail_after(20):
            assert await process.wait() == 0
    assert reply.choices[0].message.content == "echo: hi there"
    assert reply.model == "echoer"


async def test_command_line_loads_a_policy_module(tmp_path: Path) -> None:
    (tmp_path / "my_policy.py").write_text(
        "from covey.testing import Reply\n\n"
        "def answer(request):\n    return Reply(text=str(len(request.messages)))\n"
    )
    command = [sys.executable, "-m", "covey.testing", "--policy", "my_policy:answer"]
    async with await anyio.open_process(command, cwd=tmp_path) as process:
        async with openai.AsyncOpenAI(base_url=await first_line(process), api_key="x") as c:
            assert (await ask(c)).choices[0].message.content == "1"
        process.terminate()
        await process.wait()
    bad = await anyio.run_process(
        [sys.executable, "-m", "covey.testing", "--policy", "my_policy:nope"],
        cwd=tmp_path,
        check=False,
        stderr=subprocess.PIPE,
    )
    assert bad.returncode != 0
    assert b"no function 'nope'" in bad.stderr
