"""Starting and reaching the rated server: a sandbox, its process, and a restartable session.

A stdio server runs in its own process group with the sandbox's `work` directory as its
working directory, so a hung or crashed server is killed whole. Every request is bounded: the
session's read timeout and the caller's `anyio.fail_after` both apply.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import tempfile
import time
from collections.abc import AsyncGenerator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

import anyio
import anyio.abc
import httpx2
import mcp_types as types
from anyio.streams.text import TextReceiveStream
from mcp import Client
from mcp.client._transport import TransportStreams
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.message import SessionMessage

from .._errors import CoveyError

__all__ = ["WORKDIR_PLACEHOLDER", "Connection", "Sandbox", "ServerGone", "Target", "describe"]

WORKDIR_PLACEHOLDER = "{workdir}"
"""Replaced, in a stdio command's arguments, by the sandbox's working directory."""

CANARY = "COVEY-CANARY-5e1f0a"
"""Content of files outside the working directory; no tool result may contain it."""


class ServerGone(Exception):
    """The server process died or the connection to it was lost."""


@dataclass(kw_only=True, slots=True, frozen=True)
class Target:
    """The server to rate: a stdio command, or a streamable HTTP URL with headers."""

    command: tuple[str, ...] = ()
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict[str, str])
    env: dict[str, str] = field(default_factory=dict[str, str])
    """Extra environment variables for a stdio server."""

    def __post_init__(self) -> None:
        if bool(self.command) == bool(self.url):
            raise CoveyError("Rate either a command (`covey rate -- CMD ...`) or a URL, not both.")

    @property
    def transport(self) -> str:
        return "stdio" if self.command else "http"

    def shown(self) -> str:
        """The command line or URL, for the report."""
        return shlex.join(self.command) if self.command else str(self.url)


@dataclass(kw_only=True, slots=True, frozen=True)
class Sandbox:
    """A fresh temporary directory: `work` (the server's cwd) and `outside` (canaries)."""

    base: Path
    work: Path
    outside: Path

    @classmethod
    def create(cls, copy: Sequence[Path] = ()) -> Sandbox:
        """A new sandbox, with the files in `copy` copied into `work`."""
        missing = [str(p) for p in copy if not Path(p).is_file()]
        if missing:
            raise CoveyError(f"No file to copy into the working directory: {', '.join(missing)}.")
        base = Path(tempfile.mkdtemp(prefix="covey-rate-")).resolve()
        sandbox = cls(base=base, work=base / "work", outside=base / "outside")
        sandbox.work.mkdir()
        sandbox.outside.mkdir()
        (sandbox.outside / "secret.txt").write_text(CANARY + "\n")
        (sandbox.work / "notes.txt").write_text("covey rating sandbox\n")
        os.symlink(sandbox.outside, sandbox.work / "escape")
        for path in copy:
            shutil.copy2(path, sandbox.work / Path(path).name)
        return sandbox

    def stderr_log(self) -> IO[str]:
        """The file the server's stderr goes to (outside `work`, so it changes no hash there)."""
        return open(self.base / "server-stderr.log", "a")

    def env(self, env: dict[str, str]) -> dict[str, str]:
        """`env` with `{workdir}` in its values replaced by the working directory."""
        return {k: v.replace(WORKDIR_PLACEHOLDER, str(self.work)) for k, v in env.items()}

    def command(self, command: tuple[str, ...]) -> list[str]:
        return [arg.replace(WORKDIR_PLACEHOLDER, str(self.work)) for arg in command]


def describe(exc: BaseException) -> str:
    """`Type: message` of an error, looking inside exception groups for the first leaf."""
    while isinstance(exc, BaseExceptionGroup):
        group = cast("BaseExceptionGroup[BaseException]", exc)
        exc = group.exceptions[0]
    return f"{type(exc).__name__}: {exc}"


def _rss_kib(pid: int) -> int:
    with suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def group_rss_bytes(pgid: int) -> int:
    """Resident memory of every process in group `pgid` (Linux /proc; 0 elsewhere)."""
    total = 0
    proc = Path("/proc")
    entries: list[Path] = list(proc.iterdir()) if proc.is_dir() else []
    for entry in entries:
        if not entry.name.isdigit():
            continue
        with suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[2]) == pgid:
                total += _rss_kib(int(entry.name))
    return total * 1024


def _kill_group(pid: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


@asynccontextmanager
async def _process_streams(process: anyio.abc.Process) -> AsyncGenerator[TransportStreams]:
    """JSON-RPC lines over a process's stdin/stdout, as the MCP client's two streams."""
    assert process.stdout is not None and process.stdin is not None
    stdout, stdin = process.stdout, process.stdin
    read_in, read_out = anyio.create_memory_object_stream[SessionMessage | Exception](16)
    write_in, write_out = anyio.create_memory_object_stream[SessionMessage](16)

    async def reader() -> None:
        buffer = ""
        async with read_in:
            with suppress(anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                async for chunk in TextReceiveStream(stdout, errors="replace"):
                    *lines, buffer = (buffer + chunk).split("\n")
                    for line in lines:
                        if line.strip():
                            await read_in.send(_parse(line))

    async def writer() -> None:
        async with write_out:
            with suppress(anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                async for message in write_out:
                    data = message.message.model_dump_json(by_alias=True, exclude_unset=True)
                    await stdin.send((data + "\n").encode())

    async with anyio.create_task_group() as group:
        group.start_soon(reader)
        group.start_soon(writer)
        try:
            yield read_out, write_in
        finally:
            _kill_group(process.pid)
            group.cancel_scope.cancel()


def _parse(line: str) -> SessionMessage | Exception:
    try:
        return SessionMessage(types.jsonrpc_message_adapter.validate_json(line, by_name=False))
    except ValueError as exc:
        return exc


@dataclass(kw_only=True, slots=True)
class Connection:
    """One live session with the rated server, which can be closed and opened again.

    Open, use and close it from one task (the session's tasks belong to it).
    """

    target: Target
    sandbox: Sandbox
    timeout: float
    """Seconds for any one request, and for the server to start."""
    process: anyio.abc.Process | None = None
    starts: int = 0
    ready_s: float | None = None
    """Seconds from the first start to a finished handshake."""
    _client: Client | None = None
    _stack: AsyncExitStack | None = None
    _errlog: IO[str] | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            raise ServerGone("the server is not running")
        return self._client

    def client_or_none(self) -> Client | None:
        return self._client

    def alive(self) -> bool:
        """Whether the stdio process still runs (always True for HTTP)."""
        return self.process is None or self.process.returncode is None

    def rss_bytes(self) -> int:
        return 0 if self.process is None else group_rss_bytes(self.process.pid)

    def exit_note(self) -> str:
        """How the process ended and the end of its stderr; empty while it runs."""
        if self.process is None or self.process.returncode is None:
            return ""
        tail = self.stderr_tail(400).strip()
        return f"the server exited with code {self.process.returncode}" + (
            f"; its stderr ends: {tail}" if tail else ""
        )

    def stderr_tail(self, size: int = 600) -> str:
        """The last lines of the server's stderr (each once: every start appends to it)."""
        path = self.sandbox.base / "server-stderr.log"
        if not path.exists():
            return ""
        lines = path.read_text(errors="replace").strip().splitlines()
        unique = list(dict.fromkeys(reversed(lines[-40:])))
        return "\n".join(reversed(unique))[-size:]

    async def open(self, mode: str = "auto") -> Client:
        """Start the server (stdio) and finish the handshake within `timeout` seconds."""
        await self.close()
        started = time.monotonic()
        async with AsyncExitStack() as stack:
            # Not inside a cancel scope: the session's task group outlives this call. The
            # handshake's requests are bounded by the read timeout instead.
            transport = await self._transport(stack)
            client = Client(transport, mode=mode, read_timeout_seconds=self.timeout)  # type: ignore[arg-type]
            await stack.enter_async_context(client)
            self._client, self._stack = client, stack.pop_all()
        self.starts += 1
        if self.ready_s is None:
            self.ready_s = time.monotonic() - started
        return client

    async def _transport(self, stack: AsyncExitStack) -> object:
        if self.target.url is not None:
            http = httpx2.AsyncClient(
                headers=self.target.headers, timeout=httpx2.Timeout(self.timeout)
            )
            await stack.enter_async_context(http)
            return streamable_http_client(self.target.url, http_client=http)
        if self._errlog is None:
            self._errlog = self.sandbox.stderr_log()
        process = await anyio.open_process(
            self.sandbox.command(self.target.command),
            cwd=self.sandbox.work,
            env={**os.environ, **self.sandbox.env(self.target.env)},
            stderr=self._errlog,
            start_new_session=True,
        )
        self.process = process
        stack.callback(_kill_group, process.pid)
        stack.push_async_callback(process.aclose)
        return _process_streams(process)

    async def close(self) -> None:
        """End the session and kill the server's process group."""
        stack, self._client, self._stack = self._stack, None, None
        if stack is not None:
            # No cancel scope of our own around it: the session's task group must exit in the
            # scope it was entered in. The transports bound their own shutdown.
            with suppress(Exception):
                await stack.aclose()
        if self.process is not None:
            _kill_group(self.process.pid)

    async def aclose(self) -> None:
        """Close the session and the stderr log."""
        await self.close()
        if self._errlog is not None:
            self._errlog.close()
            self._errlog = None
