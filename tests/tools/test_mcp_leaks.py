"""No leaked child processes, zombies, tasks or file descriptors, whatever happens to a
connection."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Awaitable, Callable

import anyio
import pytest

from covey.tools import MCPToolset
from tests.tools.conftest import FIXTURE_SERVER, HTTPFixtureServer


def _children() -> list[tuple[int, str]]:
    """(pid, state) of this process's children."""
    me = str(os.getpid())
    children: list[tuple[int, str]] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:
            children.append((int(entry), fields[0]))
    return children


def child_pids() -> list[int]:
    """Children still running (zombies are counted by `zombie_pids`)."""
    return [pid for pid, state in _children() if state != "Z"]


def zombie_pids() -> list[int]:
    """Children that exited but were never waited for."""
    return [pid for pid, state in _children() if state == "Z"]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def task_names() -> list[str]:
    return sorted(task.name for task in anyio.get_running_tasks())


def toolset() -> MCPToolset:
    return MCPToolset.stdio(sys.executable, [FIXTURE_SERVER])


def assert_nothing_left(
    fds_before: int, tasks_before: list[str], server: int | None = None
) -> None:
    assert [pid for pid in child_pids() if pid != server] == []
    assert zombie_pids() == []
    assert open_fds() <= fds_before
    assert task_names() == tasks_before


async def test_fifty_connect_close_cycles_leave_nothing_behind(
    http_fixture_server: HTTPFixtureServer,
) -> None:
    http_server = http_fixture_server.url
    # One server start shared by all cycles: each cycle opens and closes a whole client
    # (HTTP connection pool, session, owner task) in well under a second.
    async with MCPToolset.http(http_server) as warm:
        await warm.list_tools()
    fds, tasks = open_fds(), task_names()
    for _ in range(50):
        async with MCPToolset.http(http_server) as ts:
            assert (await ts.call_tool("add", {"a": 1, "b": 1})).content == "2"
    assert_nothing_left(fds, tasks, server=http_fixture_server.pid)


async def stdio_cycles(cycle: Callable[[MCPToolset], Awaitable[None]], count: int = 10) -> None:
    """Open a stdio toolset, run `cycle` on it and close it, `count` times; check nothing is
    left. Each start is a Python process (seconds on a loaded machine), so the time allowed
    is sized from a first, measured cycle rather than fixed."""
    started = time.monotonic()
    async with toolset() as warm:
        await warm.list_tools()
    measured = time.monotonic() - started
    fds, tasks = open_fds(), task_names()
    with anyio.fail_after(max(60.0, count * measured * 4)):
        for _ in range(count):
            async with toolset() as ts:
                await cycle(ts)
    assert_nothing_left(fds, tasks)


@pytest.mark.timeout(900)
async def test_stdio_connect_close_cycles_leave_no_process_behind() -> None:
    async def call(ts: MCPToolset) -> None:
        assert (await ts.call_tool("add", {"a": 1, "b": 1})).content == "2"

    await stdio_cycles(call)


@pytest.mark.timeout(900)
async def test_calls_cancelled_midway_leave_nothing_behind() -> None:
    async def cancelled_call(ts: MCPToolset) -> None:
        with anyio.move_on_after(0.2) as scope:
            await ts.call_tool("slow", {"seconds": 30})
        assert scope.cancelled_caught

    await stdio_cycles(cancelled_call)


async def test_a_crashed_server_leaves_no_zombie_or_task_behind() -> None:
    fds, tasks = open_fds(), task_names()
    async with toolset() as ts:
        await ts.call_tool("crash", {})
        assert (await ts.call_tool("add", {"a": 1, "b": 1})).content == "2"
    assert_nothing_left(fds, tasks)


async def test_closing_two_toolsets_in_any_order_is_clean() -> None:
    tasks = task_names()
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
    assert zombie_pids() == []
    assert task_names() == tasks
