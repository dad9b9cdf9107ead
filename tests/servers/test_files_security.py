"""Random paths through the real MCP client never read or change anything outside the root."""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path
from typing import Any

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.shared.exceptions import MCPError

from covey.servers.files import build_server

from .conftest import SECRET, World, make_world

Call = tuple[str, dict[str, Any]]


def _segments() -> st.SearchStrategy[str]:
    # Names that exist inside the root come up most, so the operations get past the checks
    # and do real work; the tricky ones come up often enough to be tried everywhere.
    inside = ["sub", "a.txt", "sub", "b.txt", "link_in", "new.txt", "newdir", ".", "é", "日本語"]
    tricky = [
        "..",
        "",
        "link_out",
        "link_file_out",
        "link_sibling",
        "loop",
        "outside",
        "secret.txt",
        "root",
        "root2",
        "🙂",
        "a\x00b",
        "\u202e",
        "x" * 300,
    ]
    return st.sampled_from(inside * 2 + tricky) | st.text(max_size=4)


def _paths(world: World) -> st.SearchStrategy[str]:
    prefixes = st.sampled_from(
        [
            *("", "", "", f"{world.root}/", f"{world.root}/", "/", "//", f"{world.base}/"),
            *(f"{world.root}2/", f"{world.outside}/", f"{world.root}/sub/../../"),
        ]
    )
    joined = st.builds(
        lambda prefix, parts: prefix + "/".join(parts),
        prefixes,
        st.lists(_segments(), min_size=1, max_size=4),
    )
    valid = st.sampled_from(
        ["a.txt", "sub", "sub/b.txt", ".", "link_in", "new.txt", "sub/new", f"{world.root}/a.txt"]
    )
    return st.one_of(valid, valid, joined, st.text(max_size=12))


def _calls(world: World) -> st.SearchStrategy[Call]:
    p = _paths(world)

    def call(name: str, **arguments: st.SearchStrategy[Any]) -> st.SearchStrategy[Call]:
        return st.tuples(st.just(name), st.fixed_dictionaries(arguments))

    edits = st.sampled_from(
        [[{"oldText": "TOP", "newText": "pwned"}], [{"oldText": "alpha", "newText": "A"}]]
    )
    return st.one_of(
        call("read_text_file", path=p),
        call("read_text_file", path=p, tail=st.integers(0, 3)),
        call("read_media_file", path=p),
        call("read_multiple_files", paths=st.lists(p, min_size=1, max_size=3)),
        call("write_file", path=p, content=st.just("written")),
        call("edit_file", path=p, edits=edits, dryRun=st.booleans()),
        call("create_directory", path=p),
        call("move_file", source=p, destination=p),
        call("list_directory", path=p),
        call("list_directory_with_sizes", path=p),
        call("directory_tree", path=p),
        call("search_files", path=p, pattern=st.sampled_from(["*", "*secret*", "**/*.txt"])),
        call("get_file_info", path=p),
    )


def _leaks(result: Any) -> bool:
    """Whether a tool result carries the secret, in text or in base64 data."""
    if SECRET in result.model_dump_json():
        return True
    for item in result.content:
        blob = getattr(getattr(item, "resource", None), "blob", None) or getattr(item, "data", None)
        if blob and SECRET.encode() in base64.b64decode(blob):
            return True
    return False


def _reset(world: World) -> None:
    # Keep the root directory itself: the server holds a descriptor of it.
    for child in world.root.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    shutil.rmtree(world.root.parent / "scratch", ignore_errors=True)
    fresh = make_world(world.root.parent / "scratch")
    for child in fresh.root.iterdir():
        os.rename(child, world.root / child.name)
    shutil.rmtree(fresh.base)


async def _run_calls(client_server: Any, calls: list[Call]) -> list[str]:
    leaked: list[str] = []
    async with Client(client_server) as client:
        for name, arguments in calls:
            try:
                result = await client.call_tool(name, arguments)
            except MCPError:
                continue  # a protocol-level refusal reads nothing
            if _leaks(result):
                leaked.append(f"{name}({arguments!r})")
    return leaked


def test_random_paths_never_read_or_write_outside_the_root(tmp_path: Path) -> None:
    world = make_world(tmp_path / "w")
    server = build_server([str(world.root)])
    baseline = world.snapshot()
    before_top = sorted(p.name for p in tmp_path.iterdir())

    @settings(
        max_examples=200,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(calls=st.lists(_calls(world), min_size=1, max_size=4))
    def check(calls: list[Call]) -> None:
        _reset(world)
        leaked = anyio.run(_run_calls, server, calls)
        assert leaked == []
        assert world.snapshot() == baseline
        assert (world.outside / "secret.txt").read_text() == SECRET

    check()
    assert sorted(p.name for p in tmp_path.iterdir()) == before_top


async def test_the_leak_check_does_catch_a_leak(tmp_path: Path) -> None:
    # The same check against a server whose root holds the secret: it must see the leak.
    world = make_world(tmp_path / "w")
    async with Client(build_server([str(world.base)])) as client:
        text = await client.call_tool("read_text_file", {"path": "outside/secret.txt"})
        media = await client.call_tool("read_media_file", {"path": "outside/secret.txt"})
    assert _leaks(text)
    assert _leaks(media)
