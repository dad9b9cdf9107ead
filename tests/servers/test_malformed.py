"""Each server, as a real stdio process, answers 1,000 malformed calls with errors, then works."""

from __future__ import annotations

import random
from pathlib import Path
from typing import IO, Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, Tool

from .conftest import SECRET, World, stdio_client_for

CALLS = 1000

_WRONG: dict[str, list[Any]] = {
    "string": [12345, 1.5, True, None, [], {"a": 1}, ["x"]],
    "integer": ["abc", 1.5, [], {}, "1.5x", {"n": 1}],
    "boolean": ["maybe", [], {}, 5, 2.5],
    "array": ["not json [", 5, {"a": 1}, True, [1, 2], [None]],
    "object": ["x", 5, [], True],
}


def _kind(spec: dict[str, Any]) -> str:
    if "type" in spec:
        return str(spec["type"])
    types = [str(o.get("type", "object")) for o in spec.get("anyOf", []) if o.get("type") != "null"]
    return types[0] if types else "object"


def _wrong(spec: dict[str, Any], rng: random.Random) -> Any:
    if "enum" in spec:
        return "sideways"
    if "maxLength" in spec and rng.random() < 0.3:
        return "x" * (spec["maxLength"] + 1 + rng.randrange(100_000))
    return rng.choice(_WRONG[_kind(spec)])


def _malformed(tool: Tool, rng: random.Random) -> dict[str, Any]:
    """Arguments no schema-valid call could have: a field missing or of the wrong type."""
    properties: dict[str, Any] = tool.input_schema.get("properties", {})
    required: list[str] = tool.input_schema.get("required", [])
    arguments: dict[str, Any] = {name: "ok" for name in required}
    if required and rng.random() < 0.25:
        del arguments[rng.choice(required)]
        arguments[f"bogus{rng.randrange(9)}"] = "x" * rng.randrange(1000)
        return arguments
    if not properties:
        return {"unexpected": 1}  # calls that take no arguments get the one wrong shape there is
    name = rng.choice(sorted(properties))
    arguments[name] = _wrong(properties[name], rng)
    return arguments


def assert_no_crash(errlog: IO[str]) -> None:
    """No tool crashed: a crash is logged with its traceback on the server's stderr."""
    errlog.seek(0)
    log = errlog.read()
    assert "Traceback" not in log and "unexpected exception" not in log, log[-3000:]


async def hammer(client: Client, seed: int, *, skip: frozenset[str] = frozenset()) -> None:
    rng = random.Random(seed)
    tools = [t for t in (await client.list_tools()).tools if t.name not in skip]
    for number in range(CALLS):
        if number % 50 == 0:
            name, arguments = f"no_such_tool_{number}", {"x": 1}
        else:
            tool = rng.choice(tools)
            name, arguments = tool.name, _malformed(tool, rng)
        try:
            result = await client.call_tool(name, arguments)
        except MCPError as exc:
            assert exc.code == INVALID_PARAMS, (name, arguments, exc)
            continue
        assert result.is_error, (name, str(arguments)[:200], result)
        assert result.content and len(getattr(result.content[0], "text", "")) < 2000


async def test_files_survives_malformed_calls(world: World, errlog: IO[str]) -> None:
    before = world.snapshot()
    args = ["--root", str(world.root)]
    async with stdio_client_for("covey.servers.files", *args, errlog=errlog) as client:
        # list_allowed_directories takes nothing, so the only malformed call is an extra key,
        # which (as in the reference server) is ignored; it is exercised elsewhere.
        await hammer(client, seed=1, skip=frozenset({"list_allowed_directories"}))
        result = await client.call_tool("read_text_file", {"path": "a.txt"})
    assert not result.is_error and result.structured_content == {"content": "alpha\nbeta\ngamma\n"}
    names = {p.name for p in world.root.iterdir()}
    assert names == {"a.txt", "sub", "link_out", "link_file_out", "link_sibling", "link_in", "loop"}
    assert world.snapshot() == before
    assert (world.outside / "secret.txt").read_text() == SECRET
    assert_no_crash(errlog)


@pytest.mark.parametrize(
    ("module", "valid"),
    [
        ("covey.servers.calc", ("calculate", {"expression": "6*7"}, "42")),
        ("covey.servers.time", ("get_current_time", {"timezone": "UTC"}, "UTC")),
    ],
)
async def test_server_survives_malformed_calls(
    module: str, valid: tuple[str, dict[str, Any], str], errlog: IO[str], tmp_path: Path
) -> None:
    async with stdio_client_for(module, errlog=errlog) as client:
        await hammer(client, seed=2)
        name, arguments, expected = valid
        result = await client.call_tool(name, arguments)
    assert not result.is_error
    assert expected in getattr(result.content[0], "text", "")
    assert_no_crash(errlog)
