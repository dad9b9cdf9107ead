"""HTTP mode refuses foreign hosts and origins and requires its token, as a real process."""

from __future__ import annotations

import socket
from typing import Any

import anyio
import anyio.lowlevel
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR

from covey._http_guard import HTTPGuard, Message, Scope
from covey.servers._common import HTTPOptions, SetupError
from covey.servers._http import serve_http
from covey.servers.calc import build_server, main

from .conftest import http_client_for, http_process

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "probe", "version": "0"},
    },
}
ACCEPT = {"Accept": "application/json, text/event-stream"}


async def post(url: str, **headers: str) -> int:
    async with httpx2.AsyncClient(timeout=30) as http:
        response = await http.post(url, json=INITIALIZE, headers={**ACCEPT, **headers})
        return response.status_code


async def test_token_origin_and_host_are_enforced() -> None:
    args = ["--allow-origin", "http://localhost:6274"]
    async with http_process(
        "covey.servers.calc", *args, env={"COVEY_SERVER_TOKEN": "t0ken"}
    ) as url:
        port = url.split(":")[2].split("/")[0]
        good = "Bearer t0ken"
        assert await post(url) == 401
        assert await post(url, Authorization="Bearer wrong") == 401
        assert await post(url, Authorization="t0ken") == 401
        assert await post(url, Authorization=good, Origin="http://evil.example") == 403
        assert (
            await post(url, Authorization=good, Origin=f"http://localhost:{int(port) + 1}") == 403
        )
        assert await post(url, Authorization=good, Origin="null") == 403
        assert await post(url, Authorization=good, Host="evil.example") == 421
        assert await post(url, Authorization=good, Host=f"evil.example:{port}") == 421
        assert await post(url, Authorization=good) == 200
        assert await post(url, Authorization=good, Origin=f"http://127.0.0.1:{port}") == 200
        assert await post(url, Authorization=good, Origin="http://localhost:6274") == 200
        async with http_client_for(url, token="t0ken") as client:
            result = await client.call_tool("calculate", {"expression": "1+1"})
        assert result.structured_content is not None and result.structured_content["result"] == "2"
        # Every request of the handshake (the SDK may try both protocol eras) got a 401.
        assert set(await refused_client_statuses(url, token="wrong")) == {401}


async def refused_client_statuses(url: str, token: str) -> list[int]:
    """Connect an MCP client that the server refuses; return the HTTP statuses it got."""
    statuses: list[int] = []

    async def seen(response: httpx2.Response) -> None:
        statuses.append(response.status_code)

    headers = {"Authorization": f"Bearer {token}"}
    # The SDK reports a refused handshake as an internal-error MCPError in exception groups.
    internal = pytest.RaisesExc(MCPError, check=lambda e: e.error.code == INTERNAL_ERROR)
    with pytest.RaisesGroup(internal, flatten_subgroups=True):
        hooks = {"response": [seen]}
        async with httpx2.AsyncClient(headers=headers, timeout=30, event_hooks=hooks) as http:
            async with Client(streamable_http_client(url, http_client=http)):
                pass
    return statuses


def test_bad_transport_options_stop_the_server(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--http", "127.0.0.1:0", "--token", " "]) == 2
    assert "--token is empty" in capsys.readouterr().err
    assert main(["--http", "127.0.0.1:notaport"]) == 2
    assert "HOST:PORT" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main(["--http", f"127.0.0.1:{taken.getsockname()[1]}"]) == 2
    assert "cannot listen" in capsys.readouterr().err


async def test_no_token_means_open_to_local_clients_only() -> None:
    async with http_process("covey.servers.time") as url:
        assert await post(url) == 200
        assert await post(url, Origin="http://evil.example") == 403
        assert await post(url, Host="attacker.example:80") == 421


async def test_a_public_address_needs_a_token() -> None:
    with pytest.raises(SetupError, match="without a token"):
        await serve_http(build_server(), HTTPOptions(host="0.0.0.0", port=0))


async def _asgi(guard: HTTPGuard, headers: list[tuple[bytes, bytes]]) -> tuple[int, bool]:
    sent: list[Message] = []
    reached = anyio.Event()

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        reached.set()

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    guard.app = app
    await guard({"type": "http", "headers": headers}, receive, send)
    status = sent[0]["status"] if sent else 200
    return status, reached.is_set()


async def test_guard_unit() -> None:
    guard = HTTPGuard(
        lambda *_: anyio.lowlevel.checkpoint(),
        hosts=frozenset({"127.0.0.1:9"}),
        origins=frozenset({"http://127.0.0.1:9"}),
        token="abc",
    )
    host = (b"host", b"127.0.0.1:9")
    auth = (b"authorization", b"bearer abc")
    assert await _asgi(guard, [host, auth]) == (200, True)
    assert await _asgi(guard, [host, host, auth]) == (421, False)
    assert await _asgi(guard, [auth]) == (421, False)
    assert await _asgi(guard, [host, auth, (b"origin", b"http://127.0.0.1:9/")]) == (200, True)
    assert await _asgi(guard, [host, auth, (b"origin", b"https://127.0.0.1:9")]) == (403, False)
    assert await _asgi(guard, [host, auth, auth]) == (401, False)
    assert await _asgi(guard, [host, (b"authorization", b"Basic abc")]) == (401, False)
    assert await _asgi(guard, [host, (b"authorization", b"Bearer abcd")]) == (401, False)
