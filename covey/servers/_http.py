"""Streamable HTTP for the bundled servers, guarded against DNS rebinding and strangers.

Every request passes `HTTPGuard` before it reaches the MCP app: its `Host` must name this
server (a DNS-rebinding page reaches us under the attacker's host name), its `Origin`, when a
browser sends one, must be ours or explicitly allowed (a page on another site cannot drive
the server), and when a token is set it must carry `Authorization: Bearer <token>`. The SDK's
own Host/Origin check runs behind it with the same lists, as a second line.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import socket
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings

from ._common import HTTPOptions, SetupError

__all__ = ["HTTPGuard", "serve_http"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the server on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HTTPGuard:
    """ASGI middleware that refuses foreign hosts and origins (403/421) and missing tokens (401)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        hosts: frozenset[str],
        origins: frozenset[str],
        token: str | None,
    ) -> None:
        """Wrap `app`.

        Args:
            app: The MCP ASGI app.
            hosts: Accepted `Host` values, lowercase, with port (`127.0.0.1:8000`).
            origins: Accepted `Origin` values, lowercase (`http://127.0.0.1:8000`).
            token: The bearer token requests must carry, or None.
        """
        self.app = app
        self.hosts = hosts
        self.origins = origins
        self._token = token.encode() if token is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check one request, then pass it on or answer it with an error."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, message = refusal
        headers = [(b"content-type", b"application/json")]
        if status == 401:
            headers.append((b"www-authenticate", b'Bearer realm="covey"'))
        body = json.dumps({"error": message}).encode()
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _refusal(self, scope: Scope) -> tuple[int, str] | None:
        values: dict[bytes, list[bytes]] = {}
        for key, value in scope["headers"]:
            values.setdefault(bytes(key).lower(), []).append(bytes(value))
        hosts = values.get(b"host", [])
        if len(hosts) != 1 or hosts[0].decode("latin-1").lower() not in self.hosts:
            return 421, "Host not allowed: this server answers only to its own address."
        origins = values.get(b"origin", [])
        if len(origins) > 1 or (
            origins and origins[0].decode("latin-1").lower().rstrip("/") not in self.origins
        ):
            return 403, "Origin not allowed: start the server with --allow-origin to permit it."
        if self._token is not None and not self._authorized(values.get(b"authorization", [])):
            return 401, "Missing or wrong bearer token: send 'Authorization: Bearer <token>'."
        return None

    def _authorized(self, values: list[bytes]) -> bool:
        assert self._token is not None
        if len(values) != 1:
            return False
        scheme, _, credential = values[0].strip().partition(b" ")
        # compare_digest keeps the comparison time independent of how much of the token matched.
        return scheme.lower() == b"bearer" and hmac.compare_digest(credential.strip(), self._token)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise SetupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.set_inheritable(True)
    return sock


def _allowed(options: HTTPOptions, port: int) -> tuple[frozenset[str], frozenset[str]]:
    bound = f"[{options.host}]" if ":" in options.host else options.host
    names = {bound, *options.allowed_hosts}
    if is_loopback(options.host) or options.host in ("0.0.0.0", "::"):
        names.update(_LOOPBACK_NAMES)
    hosts = {f"{name.lower()}:{port}" for name in names}
    if port == 80:
        hosts.update(name.lower() for name in names)
    origins = {f"http://{host}" for host in hosts}
    origins.update(origin.lower().rstrip("/") for origin in options.allowed_origins)
    return frozenset(hosts), frozenset(origins)


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
