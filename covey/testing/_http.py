"""A small HTTP/1.1 server over anyio and h11.

It keeps connections alive, sends JSON and streamed (SSE) answers, and closes abruptly
where fault injection needs it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import anyio
import anyio.abc
import h11

__all__ = ["HttpRequest", "Response", "serve_connection"]

MAX_BODY = 16 * 2**20


@dataclass(kw_only=True, slots=True)
class HttpRequest:
    """A request as the handler sees it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(kw_only=True, slots=True)
class Response:
    """What the handler answers: a body, a stream of chunks, raw bytes, or nothing."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=lambda: [])
    body: bytes = b""
    chunks: AsyncIterator[bytes] | None = None
    """Streamed body (chunked encoding)."""
    cut_after: int | None = None
    """Close the connection after this many chunks, without ending the stream."""
    raw: bytes | None = None
    """Bytes written as they are, then the connection is closed (truncated answers)."""
    close: bool = False
    """Close the connection without answering."""


Handler = Callable[[HttpRequest], Awaitable[Response]]


async def _read_request(conn: h11.Connection, stream: anyio.abc.ByteStream) -> HttpRequest | None:
    request: h11.Request | None = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            try:
                data = await stream.receive(65536)
            except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
                return None
            conn.receive_data(data)
        elif isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > MAX_BODY:
                return None
        elif isinstance(event, h11.EndOfMessage):
            assert request is not None
            headers = {k.decode().lower(): v.decode() for k, v in request.headers}
            return HttpRequest(
                method=request.method.decode(),
                path=request.target.decode().split("?", 1)[0],
                headers=headers,
                body=bytes(body),
            )
        else:
            return None


async def _send(conn: h11.Connection, stream: anyio.abc.ByteStream, event: h11.Event) -> None:
    data = conn.send(event)
    if data:
        await stream.send(data)


async def _respond(conn: h11.Connection, stream: anyio.abc.ByteStream, resp: Response) -> bool:
    """Send the response; False when the connection must close."""
    if resp.close:
        return False
    if resp.raw is not None:
        await stream.send(resp.raw)
        return False
    headers = list(resp.headers)
    if resp.chunks is None:
        headers.append(("content-length", str(len(resp.body))))
    await _send(conn, stream, h11.Response(status_code=resp.status, headers=headers))
    if resp.chunks is None:
        await _send(conn, stream, h11.Data(data=resp.body))
    else:
        sent = 0
        async for chunk in resp.chunks:
            if resp.cut_after is not None and sent >= resp.cut_after:
                return False
            await _send(conn, stream, h11.Data(data=chunk))
            sent += 1
    await _send(conn, stream, h11.EndOfMessage())
    return True


async def serve_connection(stream: anyio.abc.ByteStream, handler: Handler) -> None:
    """Answer requests on one connection until it closes."""
    conn = h11.Connection(h11.SERVER)
    async with stream:
        try:
            while True:
                request = await _read_request(conn, stream)
                if request is None:
                    return
                if not await _respond(conn, stream, await handler(request)):
                    return
                if conn.our_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
        except (
            anyio.BrokenResourceError,
            anyio.ClosedResourceError,
            h11.LocalProtocolError,
            h11.RemoteProtocolError,
        ):
            return
