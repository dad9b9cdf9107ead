"""No leaked child processes, tasks or file descriptors, whatever happens to a connection."""

from __future__ import annotations

import os
import sys

import anyio

from covey.tools import MCPToolset
from tests.tools.conftest import FIXTURE_SERVER


def child_pids() -> list[int]:
    me = str(os.getpid())
    children: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me and fields[0] != "Z":
            children.append(int(entry))
    return children


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def toolset() -> MCPToolset:
    return MCPToolset.stdio(sys.executable, [FIXTURE_SERVER])


async def test_fifty_connect_close_cycles_leave_nothing_behind() -> None:
    async with toolset() as warm:
        await warm.list_tools()
    before = open_fds()
    for _ in range(50):
        async with toolset() as ts:
            assert (await ts.call_tool("add", {"a": 1, "b": 1})).content == "2"
    assert child_pids() == []
    assert open_fds() <= before


async def test_twenty_calls_cancelled_midway_leave_nothing_behind() -> None:
    async with toolset() as warm:
        await warm.list_tools()
    before = open_fds()
    for _ in range(20):
        async with toolset() as ts:
            with anyio.move_on_after(0.2) as scope:
                await ts.call_tool("slow", {"seconds": 30})
            assert scope.cancelled_caught
    assert child_pids() == []
    assert open_fds() <= before


async def test_closing_two_toolsets_in_any_order_is_clean() -> None:
    first = toolset()
    second = toolset()
    await first.__aenter__()
    await second.__aenter__()
    # Closed first-in-first-out, which the raw mcp client does not survive.
    await first.__aexit__(None, None, None)
    still = await second.call_tool("add", {"a": 2, "b": 2})
    await second.__aexit__(None, None, None)
    assert still.content == "4"
    assert child_pids() == []
