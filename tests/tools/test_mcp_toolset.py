"""MCPToolset against real MCP server processes, over stdio and streamable HTTP."""

from __future__ import annotations

import sys

import anyio
import pytest

from covey import UsageError
from covey.tools import (
    ElicitationRequest,
    ElicitationResponse,
    MCPConnectionError,
    MCPToolset,
    ProgressUpdate,
    ServerLogMessage,
    ToolEvent,
)
from tests.tools.conftest import FIXTURE_SERVER, HTTPFixtureServer


def stdio_toolset(**options: object) -> MCPToolset:
    return MCPToolset.stdio(sys.executable, [FIXTURE_SERVER], **options)  # type: ignore[arg-type]


@pytest.fixture(params=["stdio", "http"])
def make_toolset(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    if request.param == "stdio":
        return stdio_toolset
    url = request.getfixturevalue("http_server")
    return lambda **options: MCPToolset.http(url, **options)


async def test_tools_are_listed_and_called(make_toolset) -> None:  # type: ignore[no-untyped-def]
    async with make_toolset() as toolset:
        names = [t.definition.name for t in await toolset.list_tools()]
        result = await toolset.call_tool("add", {"a": 2, "b": 40})
    assert {"add", "slow", "count_up", "ask_name", "summarize"} <= set(names)
    assert result.content == "42"
    assert not result.is_error
    assert result.structured == {"result": 42}


async def test_tool_definitions_carry_the_server_schema(make_toolset) -> None:  # type: ignore[no-untyped-def]
    async with make_toolset() as toolset:
        tools = {t.definition.name: t.definition for t in await toolset.list_tools()}
    add = tools["add"]
    assert add.description == "Add two integers."
    assert set(add.parameters["properties"]) == {"a", "b"}
    assert add.parameters["required"] == ["a", "b"]


async def test_resources_and_prompts_are_readable(make_toolset) -> None:  # type: ignore[no-untyped-def]
    async with make_toolset() as toolset:
        resources = [str(r.uri) for r in await toolset.list_resources()]
        text = await toolset.read_resource("note://hello")
        prompts = [p.name for p in await toolset.list_prompts()]
        prompt = await toolset.get_prompt("greet", {"name": "Ann"})
    assert resources == ["note://hello"]
    assert text == "hello from a resource"
    assert prompts == ["greet"]
    assert prompt == "Please greet Ann warmly."


async def test_elicitation_goes_to_the_handler(make_toolset) -> None:  # type: ignore[no-untyped-def]
    asked: list[ElicitationRequest] = []

    async def handler(request: ElicitationRequest) -> ElicitationResponse:
        asked.append(request)
        return ElicitationResponse(action="accept", content={"name": "Ada"})

    async with make_toolset(elicitation=handler) as toolset:
        result = await toolset.call_tool("ask_name", {})
    assert result.content == "hello Ada"
    assert asked[0].message == "What is your name?"
    assert "name" in asked[0].schema["properties"]


async def test_elicitation_without_handler_is_declined(make_toolset) -> None:  # type: ignore[no-untyped-def]
    async with make_toolset() as toolset:
        result = await toolset.call_tool("ask_name", {})
    assert result.content == "no name (decline)"


async def test_progress_and_logs_become_events(make_toolset) -> None:  # type: ignore[no-untyped-def]
    events: list[ToolEvent] = []
    async with make_toolset(events=events.append) as toolset:
        await toolset.call_tool("count_up", {"steps": 3})
        await toolset.call_tool("shout", {"message": "careful"})
    progress = [e for e in events if isinstance(e, ProgressUpdate)]
    assert [(p.progress, p.total, p.message) for p in progress] == [
        (1, 3, "step 1"),
        (2, 3, "step 2"),
        (3, 3, "step 3"),
    ]
    logs = [e for e in events if isinstance(e, ServerLogMessage)]
    assert [(log.level, log.data) for log in logs] == [("warning", "careful")]


async def test_list_changed_refreshes_the_tool_list(make_toolset) -> None:  # type: ignore[no-untyped-def]
    async with make_toolset() as toolset:
        before = [t.definition.name for t in await toolset.list_tools()]
        await toolset.call_tool("grow", {})
        for _ in range(100):
            after = [t.definition.name for t in await toolset.list_tools()]
            if "extra" in after:
                break
            await anyio.sleep(0.02)
        result = await toolset.call_tool("extra", {})
    assert "extra" not in before
    assert "extra" in after
    assert result.content == "extra!"


async def test_a_hanging_tool_times_out_and_the_session_goes_on(make_toolset) -> None:  # type: ignore[no-untyped-def]
    async with make_toolset() as toolset:
        timed_out = await toolset.call_tool("slow", {"seconds": 30}, timeout=0.3)
        after = await toolset.call_tool("add", {"a": 1, "b": 1})
    assert timed_out.is_error
    assert "did not answer within 0.3s" in timed_out.content
    assert after.content == "2"


async def test_a_crashed_stdio_server_is_restarted_once() -> None:
    async with stdio_toolset() as toolset:
        crashed = await toolset.call_tool("crash", {})
        after = await toolset.call_tool("add", {"a": 1, "b": 2})
        again = await toolset.call_tool("crash", {})
        dead = await toolset.call_tool("add", {"a": 1, "b": 2})
        restarts = toolset.restarts
    assert crashed.is_error and "being restarted" in crashed.content
    assert after.content == "3"
    assert restarts == 1
    assert again.is_error and "cannot be restarted again" in again.content
    assert dead.is_error and "already restarted 1 time" in dead.content


async def test_a_vanished_http_server_gives_tool_errors_not_exceptions(http_server: str) -> None:
    async with MCPToolset.http(http_server, name="fixture") as toolset:
        crashed = await toolset.call_tool("crash", {})
        after = await toolset.call_tool("add", {"a": 1, "b": 2})
    assert crashed.is_error and "stopped while running tool 'crash'" in crashed.content
    assert after.is_error and "fixture" in after.content


async def test_an_http_server_that_dies_and_comes_back_is_reconnected(
    http_fixture_server: HTTPFixtureServer,
) -> None:
    server = http_fixture_server
    async with MCPToolset.http(server.url, name="fixture") as toolset:
        before = await toolset.call_tool("add", {"a": 1, "b": 1})
        await anyio.to_thread.run_sync(server.kill)
        while_down = await toolset.call_tool("add", {"a": 1, "b": 2})
        await anyio.to_thread.run_sync(server.start)  # the client keeps running meanwhile
        back = await toolset.call_tool("add", {"a": 2, "b": 2})
    assert before.content == "2"
    assert while_down.is_error and "fixture" in while_down.content
    assert back.content == "4" and not back.is_error


async def test_an_http_server_restarted_between_calls_answers_the_next_call(
    http_fixture_server: HTTPFixtureServer,
) -> None:
    server = http_fixture_server
    async with MCPToolset.http(server.url, name="fixture") as toolset:
        await toolset.list_tools()
        await anyio.to_thread.run_sync(server.kill)
        await anyio.to_thread.run_sync(server.start)
        back = await toolset.call_tool("add", {"a": 2, "b": 3})
    assert back.content == "5" and not back.is_error


async def test_a_client_side_failure_is_a_tool_error_and_does_not_restart_the_server() -> None:
    async def handler(request: ElicitationRequest) -> ElicitationResponse:
        return ElicitationResponse(action="accept", content={"name": {1, 2}})

    async with stdio_toolset(elicitation=handler) as toolset:
        failed = await toolset.call_tool("ask_name", {})
        after = await toolset.call_tool("add", {"a": 1, "b": 2})
        restarts = toolset.restarts
    assert failed.is_error
    assert "ValidationError" in failed.content and "stopped" not in failed.content
    assert after.content == "3"
    assert restarts == 0


async def test_a_server_that_does_not_start_gives_a_clear_error() -> None:
    toolset = MCPToolset.stdio(
        sys.executable, ["-c", "import sys; sys.exit(2)"], connect_timeout=10
    )
    with pytest.raises(MCPConnectionError, match="Could not connect to MCP server"):
        async with toolset:
            pass


async def test_a_toolset_cannot_be_used_closed_or_reopened() -> None:
    toolset = stdio_toolset()
    with pytest.raises(UsageError, match="not open"):
        await toolset.list_tools()
    async with toolset:
        pass
    with pytest.raises(UsageError, match="cannot be reopened"):
        async with toolset:
            pass
