"""Each server, as a real stdio process, answers 1,000 malformed or huge calls, then works.

Wrong types, missing fields and 100k+ character strings (in fields, array items and nested
objects) each get a clear error, or a result where the call is valid after all.
"""

from __future__ import annotations

import json
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


def _huge_text(rng: random.Random) -> str:
    return ("x" * 98 + "\u00e9\n") * rng.randrange(1_000, 3_000)


def _huge(
    spec: dict[str, Any], defs: dict[str, Any], rng: random.Random
) -> tuple[Any, bool] | None:
    """A value of `spec`'s shape with a 100k+ character string in every string inside it.

    Returns the value and whether some string in it is over its schema's `maxLength` (so the
    call cannot be valid), or None when the shape holds no string.
    """
    if "$ref" in spec:
        spec = defs[str(spec["$ref"]).rsplit("/", 1)[1]]
    kind = _kind(spec)
    if kind == "string" and "enum" not in spec:
        return _huge_text(rng), "maxLength" in spec
    if kind == "array":
        item = _huge(spec.get("items", {}), defs, rng)
        return None if item is None else ([item[0]], item[1])
    if kind != "object" or "properties" not in spec:
        return None
    value: dict[str, Any] = {}
    bounded = False
    for name, field in spec["properties"].items():
        inner = _huge(field, defs, rng)
        if inner is not None:
            value[name], over = inner
            bounded = bounded or over
        elif name in spec.get("required", []):
            return None
    return value, bounded


def _malformed(tool: Tool, rng: random.Random) -> tuple[dict[str, Any], bool]:
    """Arguments with a field missing or of the wrong type, or with huge strings inside.

    Returns the arguments and whether a schema-valid call could have them (huge strings in
    fields without a length limit), in which case a result is as good an answer as an error.
    """
    properties: dict[str, Any] = tool.input_schema.get("properties", {})
    required: list[str] = tool.input_schema.get("required", [])
    arguments: dict[str, Any] = {name: "ok" for name in required}
    if required and rng.random() < 0.25:
        del arguments[rng.choice(required)]
        arguments[f"bogus{rng.randrange(9)}"] = "x" * rng.randrange(1000)
        return arguments, False
    if not properties:
        return {"unexpected": 1}, False  # calls that take no arguments get the one wrong shape
    name = rng.choice(sorted(properties))
    if rng.random() < 0.3:
        huge = _huge(properties[name], tool.input_schema.get("$defs", {}), rng)
        if huge is not None:
            arguments[name] = huge[0]
            return arguments, not huge[1]
    arguments[name] = _wrong(properties[name], rng)
    return arguments, False


def assert_no_crash(errlog: IO[str]) -> None:
    """No tool crashed: a crash is logged with its traceback on the server's stderr."""
    errlog.seek(0)
    log = errlog.read()
    assert "Traceback" not in log and "unexpected exception" not in log, log[-3000:]


async def hammer(client: Client, seed: int, *, skip: frozenset[str] = frozenset()) -> None:
    rng = random.Random(seed)
    tools = [t for t in (await client.list_tools()).tools if t.name not in skip]
    huge = 0
    for number in range(CALLS):
        if number % 50 == 0:
            name, arguments, may_succeed = f"no_such_tool_{number}", {"x": 1}, False
        else:
            tool = rng.choice(tools)
            name = tool.name
            arguments, may_succeed = _malformed(tool, rng)
            huge += len(json.dumps(arguments)) > 100_000
        try:
            result = await client.call_tool(name, arguments)
        except MCPError as exc:
            assert exc.code == INVALID_PARAMS, (name, str(arguments)[:200], exc)
            continue
        assert result.content, (name, str(arguments)[:200], result)
        if may_succeed and not result.is_error:
            continue
        assert result.is_error, (name, str(arguments)[:200], str(result)[:500])
        assert 0 < len(getattr(result.content[0], "text", "")) < 2000, str(result)[:3000]
    assert huge >= CALLS // 20, f"only {huge} of {CALLS} calls carried a 100k+ string"


async def test_files_survives_malformed_calls(world: World, errlog: IO[str]) -> None:
    before = world.snapshot()
    # Huge contents in write_file and edit_file are valid calls; some are over the write limit.
    args = ["--root", str(world.root), "--max-write-bytes", "200000"]
    async with stdio_client_for("covey.servers.files", *args, errlog=errlog) as client:
        # list_allowed_directories takes nothing, so the only malformed call is an extra key,
        # which (as in the reference server) is ignored; it is exercised elsewhere.
        await hammer(client, seed=1, skip=frozenset({"list_allowed_directories"}))
        result = await client.call_tool("read_text_file", {"path": "a.txt"})
    assert not result.is_error and result.structured_content == {"content": "alpha\nbeta\ngamma\n"}
    names = {p.name for p in world.root.iterdir()}
    assert names - {"ok"} == {
        "a.txt", "sub", "link_out", "link_file_out", "link_sibling", "link_in", "loop"
    }  # fmt: skip
    if (world.root / "ok").exists():  # a huge write_file that fitted the limit
        assert 100_000 < (world.root / "ok").stat().st_size <= 200_000
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
