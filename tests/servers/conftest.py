"""Helpers: covey's bundled servers as real processes (stdio, streamable HTTP) and a file world."""

from __future__ import annotations

import hashlib
import os
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from covey.testing import first_line

SECRET = "TOP-SECRET-7f3a9c"
"""Content of the sentinel file outside the root; no tool result may ever contain it."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def stdio_client_for(
    module: str, *args: str, errlog: IO[str], env: dict[str, str] | None = None
) -> AsyncIterator[Client]:
    """`python -m MODULE ARGS` over stdio, through the official client."""
    params = StdioServerParameters(command=sys.executable, args=["-m", module, *args], env=env)
    async with Client(stdio_client(params, errlog=errlog), read_timeout_seconds=30) as client:  # type: ignore[arg-type]
        yield client


@asynccontextmanager
async def http_process(
    module: str, *args: str, address: str = "127.0.0.1:0", env: dict[str, str] | None = None
) -> AsyncIterator[str]:
    """`python -m MODULE ARGS --http ADDRESS`; yields the URL once the server accepts connections.

    Readiness is the URL the server prints on stdout after it starts listening, so no polling.
    """
    command = [sys.executable, "-m", module, *args, "--http", address]
    full_env = {**os.environ, **(env or {})}
    async with await anyio.open_process(command, env=full_env, stderr=None) as process:
        try:
            yield await first_line(process, timeout=60)
        finally:
            process.terminate()
            with anyio.CancelScope(shield=True), anyio.move_on_after(10):
                await process.wait()


@asynccontextmanager
async def http_client_for(
    url: str, token: str | None = None, **options: Any
) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    timeout = httpx2.Timeout(30, read=60)
    async with httpx2.AsyncClient(headers=headers, timeout=timeout) as http:
        async with Client(streamable_http_client(url, http_client=http), **options) as client:
            yield client


@pytest.fixture
def errlog(tmp_path: Path) -> Iterator[IO[str]]:
    """A file for a server process's stderr (pytest's captured stderr has no descriptor)."""
    with open(tmp_path / "server-stderr.log", "w+") as file:
        yield file


@dataclass(kw_only=True, slots=True, frozen=True)
class World:
    """A root to serve and, beside it, things no call may read or change."""

    base: Path
    root: Path
    outside: Path
    sibling: Path
    """`root` + "2": inside by string prefix, outside by path."""

    def build(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        for path in (self.root, self.outside, self.sibling):
            path.mkdir()
        (self.root / "a.txt").write_text("alpha\nbeta\ngamma\n")
        (self.root / "sub").mkdir()
        (self.root / "sub" / "b.txt").write_text("bee\n")
        (self.outside / "secret.txt").write_text(SECRET)
        (self.sibling / "secret.txt").write_text(SECRET)
        os.symlink(self.outside, self.root / "link_out")
        os.symlink(self.outside / "secret.txt", self.root / "link_file_out")
        os.symlink("../root2", self.root / "link_sibling")
        os.symlink("a.txt", self.root / "link_in")
        os.symlink("loop", self.root / "loop")

    def snapshot(self) -> dict[str, tuple[str, int, str]]:
        """Everything outside the root: kind, mode and content hash of each entry."""
        seen: dict[str, tuple[str, int, str]] = {}
        for directory, dirs, files in os.walk(self.base):
            here = Path(directory)
            if here == self.root or self.root in here.parents:
                continue
            dirs[:] = [d for d in dirs if here / d != self.root]
            for name in [*dirs, *files]:
                path = here / name
                info = path.lstat()
                digest = ""
                if path.is_file() and not path.is_symlink():
                    digest = hashlib.sha256(path.read_bytes()).hexdigest()
                seen[str(path)] = ("dir" if path.is_dir() else "file", info.st_mode, digest)
        return seen


def make_world(base: Path) -> World:
    world = World(base=base, root=base / "root", outside=base / "outside", sibling=base / "root2")
    world.build()
    return world


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path / "w")
