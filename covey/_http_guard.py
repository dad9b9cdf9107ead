"""A guard for covey's local HTTP servers against DNS rebinding and strangers.

Every request passes `HTTPGuard` before it reaches the app: its `Host` must name this
server (a DNS-rebinding page reaches us under the attacker's host name), its `Origin`, when a
browser sends one, must be ours or explicitly allowed (a page on another site cannot drive
the server), and when a token is set it must carry `Authorization: Bearer <token>`. The
bundled MCP servers and `covey view` both serve behind it.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import socket
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

__all__ = [
    "ASGIApp",
    "Message",
    "HTTPGuard",
    "Receive",
    "Scope",
    "Send",
    "allowed_hosts_and_origins",
    "is_loopback",
    "listen_socket",
]

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
            app: The ASGI app it guards.
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


def allowed_hosts_and_origins(
    host: str, port: int, *, extra_hosts: Iterable[str] = (), extra_origins: Iterable[str] = ()
) -> tuple[frozenset[str], frozenset[str]]:
    """The `Host` and `Origin` values a server bound to `host:port` accepts.

    Args:
        host: The bind address; a loopback or wildcard one also accepts the loopback names.
        port: The bound port.
        extra_hosts: More host names to accept (`--allow-host`).
        extra_origins: More origins to accept (`--allow-origin`).
    """
    bound = f"[{host}]" if ":" in host else host
    names = {bound, *extra_hosts}
    if is_loopback(host) or host in ("0.0.0.0", "::"):
        names.update(_LOOPBACK_NAMES)
    hosts = {f"{name.lower()}:{port}" for name in names}
    if port == 80:
        hosts.update(name.lower() for name in names)
    origins = {f"http://{host}" for host in hosts}
    origins.update(origin.lower().rstrip("/") for origin in extra_origins)
    return frozenset(hosts), frozenset(origins)


def listen_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port` (0: a free port) and listening, inheritable.

    Raises:
        OSError: the address is unavailable.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock
