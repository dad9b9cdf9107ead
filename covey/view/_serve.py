"""`covey view`: serve the viewer with uvicorn behind covey's HTTP guard."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

import uvicorn

from .._errors import UsageError
from .._http_guard import (
    ASGIApp,
    HTTPGuard,
    Receive,
    Scope,
    Send,
    allowed_hosts_and_origins,
    is_loopback,
    listen_socket,
)
from ..store import Store
from ._app import build_app

__all__ = ["ViewOptions", "serve_view"]

_COOKIE = "covey_view_token"


@dataclass(kw_only=True, slots=True, frozen=True)
class ViewOptions:
    """Where and how `covey view` serves."""

    host: str = "127.0.0.1"
    """Address to bind."""
    port: int = 0
    """Port; 0 picks a free one (the URL printed on stdout names it)."""
    token: str | None = None
    """Token a browser must present once (`?token=...`), required off loopback."""
    allowed_hosts: Sequence[str] = field(default_factory=tuple[str, ...])
    """Extra `Host` names accepted."""
    allowed_origins: Sequence[str] = field(default_factory=tuple[str, ...])
    """Extra `Origin` values accepted."""


class TokenCookie:
    """Lets a browser carry the bearer token: `?token=` once, then an HttpOnly cookie.

    It only moves the token into the `Authorization` header; `HTTPGuard` behind it checks it.
    """

    def __init__(self, app: ASGIApp) -> None:
        """Wrap `app` (the guard)."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the token from the query or cookie as a header, and set the cookie once."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = list(scope["headers"])
        given = _query_token(scope) or _cookie_token(headers)
        if given is None or any(k.lower() == b"authorization" for k, _ in headers):
            await self.app(scope, receive, send)
            return
        headers.append((b"authorization", b"Bearer " + given.encode()))
        from_query = _query_token(scope) is not None

        async def send_with_cookie(message: Any) -> None:
            if from_query and message["type"] == "http.response.start":
                cookie = f"{_COOKIE}={given}; HttpOnly; SameSite=Strict; Path=/"
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
            await send(message)

        await self.app({**scope, "headers": headers}, receive, send_with_cookie)


def _query_token(scope: Scope) -> str | None:
    from urllib.parse import parse_qs

    values = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1")).get("token")
    return values[0] if values else None


def _cookie_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    for key, value in headers:
        if key.lower() == b"cookie":
            cookie: SimpleCookie = SimpleCookie(value.decode("latin-1"))
            if _COOKIE in cookie:
                return cookie[_COOKIE].value
    return None


class _Announcing(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, url: str) -> None:
        super().__init__(config)
        self._url = url

    async def startup(self, sockets: list[Any] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            print(f"covey view: serving {self._url} (Ctrl-C stops)", file=sys.stderr, flush=True)
            print(self._url, flush=True)


async def serve_view(store: Store, options: ViewOptions) -> None:
    """Serve the viewer for `store` until SIGINT or SIGTERM; prints its URL once it listens.

    Raises:
        UsageError: a non-loopback address without a token, or the address is unavailable.
    """
    if not is_loopback(options.host) and options.token is None:
        raise UsageError(
            f"Refusing to serve covey view on {options.host} without a token: anyone who can "
            "reach it could read your runs. Pass --token (or set COVEY_VIEW_TOKEN), or bind "
            "127.0.0.1."
        )
    try:
        sock = listen_socket(options.host, options.port)
    except OSError as exc:
        raise UsageError(
            f"covey view cannot listen on {options.host}:{options.port}: {exc}"
        ) from exc
    port: int = sock.getsockname()[1]
    hosts, origins = allowed_hosts_and_origins(
        options.host,
        port,
        extra_hosts=options.allowed_hosts,
        extra_origins=options.allowed_origins,
    )
    guard = HTTPGuard(build_app(store), hosts=hosts, origins=origins, token=options.token)
    app: ASGIApp = TokenCookie(guard) if options.token is not None else guard
    shown = f"[{options.host}]" if ":" in options.host else options.host
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, timeout_graceful_shutdown=3, lifespan="on"
    )
    try:
        await _Announcing(config, f"http://{shown}:{port}/").serve(sockets=[sock])
    finally:
        sock.close()
