"""The seam every bundled server shares: options, hints, errors, the server class."""

from __future__ import annotations

import argparse
import importlib

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from covey.servers import SERVERS
from covey.servers._common import (
    BundledServer,
    SetupError,
    add_transport_arguments,
    bad_argument,
    hints,
    http_options,
    text_result,
)
from covey.servers._http import is_loopback


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_transport_arguments(parser)
    return parser.parse_args(argv)


def test_every_server_is_listed_with_a_main() -> None:
    assert set(SERVERS) >= {"files", "calc", "time"}
    for name, module in SERVERS.items():
        assert module == f"covey.servers.{name}"
        assert callable(importlib.import_module(module).main)


def test_http_options() -> None:
    assert http_options(parse(), {}) is None
    options = http_options(parse("--http", "8000"), {"COVEY_SERVER_TOKEN": "env"})
    assert options is not None
    assert (options.host, options.port, options.token) == ("127.0.0.1", 8000, "env")
    options = http_options(
        parse("--http", "[::1]:0", "--token", "flag"), {"COVEY_SERVER_TOKEN": "e"}
    )
    assert options is not None and (options.host, options.port, options.token) == ("::1", 0, "flag")
    options = http_options(
        parse("--http", "0.0.0.0:1", "--allow-host", "box.lan", "--allow-origin", "http://x:1"),
        {"COVEY_SERVER_TOKEN": ""},
    )
    assert options is not None and options.token is None
    assert options.allowed_hosts == ("box.lan",) and options.allowed_origins == ("http://x:1",)
    for bad in ("host:", "host:99999", "localhost:http"):
        with pytest.raises(SetupError, match="HOST:PORT"):
            http_options(parse("--http", bad), {})


def test_loopback_detection() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.2", "example.com"))


def test_hints_always_set_every_field() -> None:
    reader = hints(read_only=True, destructive=True)
    assert (reader.read_only_hint, reader.destructive_hint, reader.idempotent_hint) == (
        True,
        False,
        True,
    )
    assert reader.open_world_hint is False
    writer = hints(read_only=False, destructive=True, open_world=True)
    assert (writer.destructive_hint, writer.idempotent_hint, writer.open_world_hint) == (
        True,
        False,
        True,
    )


def test_bad_argument_names_the_problem_and_the_fix() -> None:
    error = bad_argument("limit", "-1 is negative", "Pass 0 or more.")
    assert str(error) == "Bad argument 'limit': -1 is negative. Pass 0 or more."


def _server() -> BundledServer:
    server = BundledServer("probe", instructions="A test server.")

    def echo(text: str, times: int = 1) -> str:
        """Repeat a text."""
        return text * times

    server.add_tool(echo, annotations=hints(read_only=True))
    server.add_tool(lambda: text_result("hi"), name="hello", description="Say hi.")
    return server


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_unknown_tools_are_invalid_params_in_both_protocol_eras(mode: str) -> None:
    async with Client(_server(), mode=mode) as client:
        with pytest.raises(MCPError) as unknown:
            await client.call_tool("nope" * 100_000, {})
        assert (await client.call_tool("echo", {"text": "a", "times": 2})).content
    assert unknown.value.code == INVALID_PARAMS
    assert "echo, hello" in unknown.value.message
    assert len(unknown.value.message) < 300


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_unknown_prompts_are_invalid_params_not_internal_errors(mode: str) -> None:
    async with Client(_server(), mode=mode) as client:
        with pytest.raises(MCPError) as unknown:
            await client.get_prompt("nope" * 100_000)
        assert (await client.call_tool("echo", {"text": "a", "times": 2})).content
    assert unknown.value.code == INVALID_PARAMS
    assert "prompts: none" in unknown.value.message and len(unknown.value.message) < 300


async def test_invalid_arguments_are_explained_briefly() -> None:
    async with Client(_server()) as client:
        result = await client.call_tool("echo", {"times": "many" * 10_000, "txt": "a"})
    message = getattr(result.content[0], "text", "")
    assert result.is_error
    assert message.startswith("Invalid arguments for tool 'echo': text: Field required; ")
    assert "times: Input should be a valid integer" in message
    assert "...(truncated)" in message and len(message) < 600
    assert "unexpected argument(s): 'txt'" in message
    assert message.endswith("text (string, required), times (integer).")
