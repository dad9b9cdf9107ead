"""Streamable HTTP for the bundled servers, guarded against DNS rebinding and strangers.

Every request passes `HTTPGuard` before it reaches the MCP app: its `Host` must name this
server (a DNS-rebinding page reaches us under the attacker's host name), its `Origin`, when a
browser sends one, must be ours or explicitly allowed (a page on another site cannot drive
the server), and when a token is set it must carry `Authorization: Bearer <token>`. The SDK's
own Host/Origin check runs behind it with the same lists, as a second line.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings

from .._http_guard import HTTPGuard, allowed_hosts_and_origins, is_loopback, listen_socket
from ._common import HTTPOptions, SetupError

__all__ = ["HTTPGuard", "serve_http"]


def _bind(host: str, port: int) -> socket.socket:
    try:
        return listen_socket(host, port)
    except OSError as exc:
        raise SetupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def _allowed(options: HTTPOptions, port: int) -> tuple[frozenset[str], frozenset[str]]:
    return allowed_hosts_and_origins(
        options.host,
        port,
        extra_hosts=options.allowed_hosts,
        extra_origins=options.allowed_origins,
    )


class _AnnouncingServer(uvicorn.Server):
    """Prints the URL on stdout once connections are accepted: the readiness signal."""

    def __init__(self, config: uvicorn.Config, *, url: str, name: str, token: bool) -> None:
        super().__init__(config)
        self._url = url
        self._name = name
        self._token = token

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            note = "bearer token required" if self._token else "no token"
            print(f"{self._name}: serving MCP at {self._url} ({note})", file=sys.stderr, flush=True)
            print(self._url, flush=True)


async def serve_http(server: MCPServer[Any], options: HTTPOptions) -> None:
    """Serve `server` over streamable HTTP until SIGINT or SIGTERM.

    Raises:
        SetupError: A non-loopback address without a token, or the address is unavailable.
    """
    if not is_loopback(options.host) and options.token is None:
        raise SetupError(
            f"refusing to serve {options.host} without a token: anyone who can reach it could "
            "use every tool. Pass --token or set COVEY_SERVER_TOKEN, or bind 127.0.0.1"
        )
    sock = _bind(options.host, options.port)
    port: int = sock.getsockname()[1]
    hosts, origins = _allowed(options, port)
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=sorted(hosts),
        allowed_origins=sorted(origins),
    )
    app = server.streamable_http_app(transport_security=security, host=options.host)
    guard = HTTPGuard(app, hosts=hosts, origins=origins, token=options.token)
    shown = f"[{options.host}]" if ":" in options.host else options.host
    config = uvicorn.Config(
        guard,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=3,
        lifespan="on",
    )
    announcing = _AnnouncingServer(
        config, url=f"http://{shown}:{port}/mcp", name=server.name, token=options.token is not None
    )
    try:
        await announcing.serve(sockets=[sock])
    finally:
        sock.close()
