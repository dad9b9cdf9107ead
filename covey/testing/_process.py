"""The scripted model server in a process of its own, for benchmarks and multi-process tests."""

from __future__ import annotations

import sys
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

import anyio
import anyio.abc

from .._errors import CoveyError

__all__ = ["first_line", "scripted_server_process"]


async def first_line(process: anyio.abc.Process, *, timeout: float = 60.0) -> str:  # noqa: ASYNC109
    """The first line a child process prints on stdout (a server's URL, say).

    Raises:
        CoveyError: the process printed nothing within `timeout` seconds.
    """
    assert process.stdout is not None, "start the process with stdout=PIPE (the default)"
    buffered = b""
    with anyio.move_on_after(timeout):
        async for chunk in process.stdout:
            buffered += chunk
            if b"\n" in buffered:
                return buffered.split(b"\n", 1)[0].decode().strip()
    raise CoveyError(f"The process printed no line within {timeout:g}s (got {buffered[:200]!r}).")


@asynccontextmanager
async def scripted_server_process(
    policy: str | None = None, *, cwd: str | None = None
) -> AsyncGenerator[str]:
    """Run `python -m covey.testing` (`--policy module:function`, else `--echo`); yields its URL."""
    command = [sys.executable, "-m", "covey.testing"]
    command += ["--policy", policy] if policy else ["--echo"]
    async with await anyio.open_process(command, cwd=cwd) as process:
        try:
            yield await first_line(process)
        finally:
            process.terminate()
            with anyio.CancelScope(shield=True), anyio.move_on_after(10):
                await process.wait()
