"""The files server's tools, in memory and as a real process over stdio and HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, CallToolResult

from covey.servers._fileops import Limits
from covey.servers.files import build_server

from .conftest import (
    SECRET,
    World,
    free_port,
    http_client_for,
    http_process,
    stdio_client_for,
)

READERS = {
    "read_text_file",
    "read_media_file",
    "read_multiple_files",
    "list_directory",
    "list_directory_with_sizes",
    "directory_tree",
    "search_files",
    "get_file_info",
    "list_allowed_directories",
}
WRITERS = {"write_file", "edit_file", "create_directory", "move_file"}


@asynccontextmanager
async def connect(world: World) -> AsyncIterator[Client]:
    # Entered inside each test: a client must be closed by the task that opened it.
    limits = Limits(max_read_bytes=1000, max_write_bytes=1000, max_entries=50)
    async with Client(build_server([str(world.root)], limits=limits)) as client:
        yield client


def text(result: CallToolResult) -> str:
    return "\n".join(getattr(item, "text", "") for item in result.content)


async def ok(client: Client, name: str, **arguments: Any) -> str:
    result = await client.call_tool(name, arguments)
    assert not result.is_error, text(result)
    if result.structured_content is not None and "content" in result.structured_content:
        assert result.structured_content == {"content": text(result)}
    return text(result)


async def fails(client: Client, name: str, **arguments: Any) -> str:
    result = await client.call_tool(name, arguments)
    assert result.is_error, text(result)
    return text(result)


async def test_tools_match_the_reference_server_and_carry_hints(world: World) -> None:
    async with connect(world) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(tools) == READERS | WRITERS
        for name, tool in tools.items():
            notes = tool.annotations
            assert tool.description and notes is not None
            assert notes.read_only_hint is (name in READERS)
            assert notes.open_world_hint is False
            assert (tool.output_schema is None) is (name == "read_media_file")
        assert tools["write_file"].annotations.destructive_hint is True  # type: ignore[union-attr]
        assert tools["create_directory"].annotations.destructive_hint is False  # type: ignore[union-attr]
        assert tools["edit_file"].annotations.idempotent_hint is False  # type: ignore[union-attr]
        edit = tools["edit_file"].input_schema
        assert set(edit["properties"]) == {"path", "edits", "dryRun"}
        assert set(tools["search_files"].input_schema["properties"]) == {
            "path",
            "pattern",
            "excludePatterns",
        }


async def test_reading_whole_head_tail_and_several(world: World) -> None:
    async with connect(world) as client:
        assert await ok(client, "read_text_file", path="a.txt") == "alpha\nbeta\ngamma\n"
        assert await ok(client, "read_text_file", path="a.txt", head=2) == "alpha\nbeta\n"
        assert await ok(client, "read_text_file", path="a.txt", tail=1) == "gamma\n"
        assert "only one" in await fails(client, "read_text_file", path="a.txt", head=1, tail=1)
        (world.root / "big.txt").write_text("line\n" * 500)
        assert "head or tail" in await fails(client, "read_text_file", path="big.txt")
        assert await ok(client, "read_text_file", path="big.txt", tail=2) == "line\nline\n"
        several = await ok(
            client, "read_multiple_files", paths=["a.txt", "missing.txt", "sub/b.txt"]
        )
        assert "a.txt:\nalpha" in several and "sub/b.txt:\nbee" in several
        assert "missing.txt: Error - " in several


async def test_media_files_come_back_as_image_audio_or_resource(world: World) -> None:
    async with connect(world) as client:
        (world.root / "pixel.png").write_bytes(b"\x89PNG\r\n")
        (world.root / "clip.mp3").write_bytes(b"ID3")
        image = (await client.call_tool("read_media_file", {"path": "pixel.png"})).content[0]
        audio = (await client.call_tool("read_media_file", {"path": "clip.mp3"})).content[0]
        other = (await client.call_tool("read_media_file", {"path": "a.txt"})).content[0]
        assert (image.type, getattr(image, "mime_type", None)) == ("image", "image/png")
        assert (audio.type, getattr(audio, "mime_type", None)) == ("audio", "audio/mpeg")
        assert other.type == "resource"


async def test_writing_creates_overwrites_and_respects_limits(world: World) -> None:
    async with connect(world) as client:
        assert "created" in await ok(client, "write_file", path="new.txt", content="one")
        assert "overwrote" in await ok(client, "write_file", path="new.txt", content="two")
        assert (world.root / "new.txt").read_text() == "two"
        assert "No such file" in await fails(client, "write_file", path="no/dir/x.txt", content="x")
        assert "limit" in await fails(client, "write_file", path="big.txt", content="x" * 2000)
        assert "allowed root" in await fails(client, "write_file", path=".", content="x")
        assert "a directory" in await fails(client, "write_file", path="sub", content="x")


async def test_edits_are_exact_previewed_and_applied(world: World) -> None:
    async with connect(world) as client:
        edits = [{"oldText": "beta", "newText": "BETA"}, {"oldText": "gamma\n", "newText": ""}]
        preview = await ok(client, "edit_file", path="a.txt", edits=edits, dryRun=True)
        assert preview.startswith("```diff\n") and "-beta\n-gamma\n+BETA" in preview
        assert (world.root / "a.txt").read_text() == "alpha\nbeta\ngamma\n"
        assert await ok(client, "edit_file", path="a.txt", edits=edits) == preview
        assert (world.root / "a.txt").read_text() == "alpha\nBETA\n"
        missing = await fails(
            client, "edit_file", path="a.txt", edits=[{"oldText": "zzz", "newText": ""}]
        )
        assert "not found" in missing
        (world.root / "twice.txt").write_text("x x")
        twice = await fails(
            client, "edit_file", path="twice.txt", edits=[{"oldText": "x", "newText": "y"}]
        )
        assert "2 times" in twice
        (world.root / "crlf.txt").write_bytes(b"one\r\ntwo\r\n")
        await ok(
            client, "edit_file", path="crlf.txt", edits=[{"oldText": "one\ntwo", "newText": "1\n2"}]
        )
        assert (world.root / "crlf.txt").read_bytes() == b"1\r\n2\r\n"


async def test_directories_listings_trees_and_search(world: World) -> None:
    async with connect(world) as client:
        assert "created" in await ok(client, "create_directory", path="d1/d2/d3")
        assert "created" in await ok(client, "create_directory", path="d1/d2/d3")  # idempotent
        assert "Not a directory" in await fails(client, "create_directory", path="a.txt/x")
        listing = (await ok(client, "list_directory", path=".")).splitlines()
        assert "[FILE] a.txt" in listing and "[DIR] sub" in listing and "[LINK] link_out" in listing
        sized = await ok(client, "list_directory_with_sizes", path=".", sortBy="size")
        assert "Total: 1 files, 2 directories" in sized and "17 B" in sized
        tree = json.loads(await ok(client, "directory_tree", path=".", excludePatterns=["link*"]))
        assert {node["name"] for node in tree} == {"a.txt", "d1", "loop", "sub"}
        d1 = next(node for node in tree if node["name"] == "d1")
        assert d1["children"][0]["children"][0] == {
            "name": "d3",
            "type": "directory",
            "children": [],
        }
        found = (await ok(client, "search_files", path=".", pattern="*.txt")).splitlines()
        assert found == [str(world.root / "a.txt"), str(world.root / "sub" / "b.txt")]
        assert await ok(client, "search_files", path=".", pattern="b.t") == str(
            world.root / "sub/b.txt"
        )
        none = await ok(
            client, "search_files", path=".", pattern="*.txt", excludePatterns=["sub", "a*"]
        )
        assert none == "No matches found"
        for number in range(60):
            (world.root / "sub" / f"f{number}").touch()
        assert "50 entries" in await fails(client, "directory_tree", path=".")
        assert "stopped after 50" in await ok(client, "list_directory", path="sub")


async def test_moves_info_and_allowed_directories(world: World) -> None:
    async with connect(world) as client:
        assert "moved" in await ok(client, "move_file", source="a.txt", destination="sub/a.txt")
        assert "exists" in await fails(
            client, "move_file", source="sub/a.txt", destination="sub/b.txt"
        )
        denied = await fails(
            client, "move_file", source="sub/b.txt", destination="../outside/b.txt"
        )
        assert "Access denied" in denied
        assert "Access denied" in await fails(
            client, "move_file", source="link_out", destination="x"
        )
        result = await client.call_tool("get_file_info", {"path": "sub/a.txt"})
        info = result.structured_content
        assert (
            info is not None and info["size"] == 17 and info["isFile"] and not info["isDirectory"]
        )
        assert "permissions: " in text(result)
        assert await ok(client, "list_allowed_directories") == f"Allowed directories:\n{world.root}"


async def test_bad_arguments_say_what_is_wrong(world: World) -> None:
    async with connect(world) as client:
        message = await fails(client, "read_text_file", path=7, bogus=1)
        assert "path: Input should be a valid string (got 7)" in message
        assert "unexpected argument(s): 'bogus'" in message
        assert "path (string, required)" in message
        huge = await fails(client, "read_text_file", path="x" * 100_000)
        assert "at most 4096 characters" in huge and len(huge) < 1000
        with pytest.raises(MCPError) as unknown:
            await client.call_tool("delete_everything", {})
        assert unknown.value.code == INVALID_PARAMS


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_read_only_mode_offers_no_writers(world: World, mode: str) -> None:
    async with Client(build_server([str(world.root)], read_only=True), mode=mode) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names == READERS
        with pytest.raises(MCPError) as refused:
            await client.call_tool("write_file", {"path": "a.txt", "content": "x"})
    assert refused.value.code == INVALID_PARAMS
    assert (world.root / "a.txt").read_text().startswith("alpha")


async def test_process_over_stdio(world: World, errlog: IO[str]) -> None:
    args = ["--root", str(world.root), "--root", str(world.sibling)]
    async with stdio_client_for("covey.servers.files", *args, errlog=errlog) as client:
        assert client.protocol_version == "2026-07-28"
        assert await ok(client, "read_text_file", path="a.txt", head=1) == "alpha\n"
        await ok(client, "write_file", path=str(world.sibling / "w.txt"), content="hi")
        assert "Access denied" in await fails(client, "read_text_file", path="link_out/secret.txt")
        with pytest.raises(MCPError) as unknown:
            await client.call_tool("nope", {})
    assert unknown.value.code == INVALID_PARAMS
    assert (world.sibling / "w.txt").read_text() == "hi"
    assert (world.outside / "secret.txt").read_text() == SECRET


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_process_over_http_on_a_free_port(world: World, mode: str) -> None:
    address = f"127.0.0.1:{free_port()}"
    env = {"COVEY_SERVER_TOKEN": "s3cret"}
    async with http_process(
        "covey.servers.files", "--root", str(world.root), address=address, env=env
    ) as url:
        assert url == f"http://{address}/mcp"
        async with http_client_for(url, token="s3cret", mode=mode) as client:
            assert client.protocol_version == ("2025-11-25" if mode == "legacy" else "2026-07-28")
            await ok(client, "write_file", path="h.txt", content="over http")
            assert await ok(client, "read_text_file", path="h.txt") == "over http"
            assert "Access denied" in await fails(client, "read_text_file", path=str(world.outside))
            with pytest.raises(MCPError) as unknown:
                await client.call_tool("nope", {})
    assert unknown.value.code == INVALID_PARAMS


WRITE_ESCAPES = [
    "../outside/new.txt",
    "{outside}/new.txt",
    "{root}2/new.txt",
    "link_out/new.txt",
    "link_file_out",
    "link_sibling/new.txt",
]


@pytest.mark.parametrize("template", WRITE_ESCAPES)
async def test_writes_never_land_outside(world: World, template: str) -> None:
    path = template.format(root=world.root, outside=world.outside)
    before = world.snapshot()
    async with connect(world) as client:
        assert "Access denied" in await fails(client, "write_file", path=path, content="x")
        edit = [{"oldText": "TOP", "newText": "x"}]
        assert "Access denied" in await fails(client, "edit_file", path=path, edits=edit)
        assert "Access denied" in await fails(client, "create_directory", path=path)
        await fails(client, "move_file", source="a.txt", destination=path)  # denied or exists
    assert world.snapshot() == before


def test_main_refuses_a_missing_root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from covey.servers.files import main

    assert main(["--root", str(tmp_path / "missing")]) == 2
    assert "--root" in capsys.readouterr().err
    assert main(["--root", str(tmp_path), "--max-read-bytes", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err
