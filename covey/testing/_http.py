"""A small HTTP/1.1 server connection over anyio and h11.

It keeps connections alive, reads `Content-Length` request bodies up to a bound, sends JSON
and streamed (chunked, SSE) answers, and closes abruptly where fault injection needs it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import anyio
import anyio.abc
import h11

__all__ = [
    "MAX_BODY",
    "Handler",
    "HttpRequest",
    "Response",
    "dumps",
    "json_response",
    "serve_connection",
    "sse_event",
]

MAX_BODY = 16 * 2**20
"""Largest request body read, in bytes; a larger one gets HTTP 413."""

_READ_SIZE = 65536
_CLOSED = (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError)


@dataclass(kw_only=True, slots=True)
class HttpRequest:
    """A whole request, as the handler sees it."""

    method: str
    """`GET`, `POST`, ..."""
    path: str
    """The target without its query string."""
    headers: dict[str, str]
    """Headers, names in lower case."""
    body: bytes
    """The request body."""


@dataclass(kw_only=True, slots=True)
class Response:
    """What the handler answers: a body, a stream of chunks, raw bytes, or nothing."""

    status: int = 200
    """HTTP status."""
    headers: list[tuple[str, str]] = field(default_factory=lambda: [])
    """Headers; `content-length` or chunked encoding is added."""
    body: bytes = b""
    """The whole body, when `chunks` is `None`."""
    chunks: Sequence[bytes] | None = None
    """A streamed body, one chunk of the chunked encoding each."""
    cut_after: int | None = None
    """Close the connection after this many `chunks`, without ending the body."""
    raw: bytes | None = None
    """Bytes written as they are (bypassing HTTP framing), then the connection closes."""
    close: bool = False
    """Close the connection without answering."""


Handler = Callable[[HttpRequest], Awaitable[Response]]
"""Answers one request."""


def dumps(value: object) -> bytes:
    """Compact JSON."""
    return json.dumps(value, separators=(",", ":")).encode()


def json_response(value: object, status: int = 200) -> Response:
    """A JSON answer."""
    return Response(
        status=status, headers=[("content-type", "application/json")], body=dumps(value)
    )


def sse_event(value: object) -> bytes:
    """One server-sent event carrying `value` as JSON."""
    return b"data: " + dumps(value) + b"\n\n"


class _TooLarge(Exception):
    pass


async def _read_request(
    conn: h11.Connection, stream: anyio.abc.ByteStream, max_body: int
) -> HttpRequest | None:
    """The next whole request, or `None` when the client closed the connection."""
    request: h11.Request | None = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            try:
                data = await stream.receive(_READ_SIZE)
            except _CLOSED:
                return None
            conn.receive_data(data)
        elif isinstance(event, h11.Request):
            request = event
            length = dict(event.headers).get(b"content-length", b"0")
            if length.isdigit() and int(length) > max_body:
                raise _TooLarge
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > max_body:
                raise _TooLarge
        elif isinstance(event, h11.EndOfMessage):
            assert request is not None
            return HttpRequest(
                method=request.method.decode(),
                path=request.target.decode().split("?", 1)[0],
                headers={k.decode(): v.decode() for k, v in request.headers},
                body=bytes(body),
            )
        else:  # ConnectionClosed, or PAUSED after a protocol switch we never agree to
            return None


async def _respond(conn: h11.Connection, stream: anyio.abc.ByteStream, resp: Response) -> bool:
    """Send the response; `False` when the connection must close now."""
    if resp.close:
        return False
    if resp.raw is not None:
        await stream.send(resp.raw)
        return False
    if resp.chunks is None:
        headers = [*resp.headers, ("content-length", str(len(resp.body)))]
        head = conn.send(h11.Response(status_code=resp.status, headers=headers)) or b""
        data = conn.send(h11.Data(data=resp.body)) or b""
        await stream.send(head + data + (conn.send(h11.EndOfMessage()) or b""))
        return True
    head = conn.send(h11.Response(status_code=resp.status, headers=resp.headers)) or b""
    chunks = resp.chunks if resp.cut_after is None else resp.chunks[: resp.cut_after]
    for chunk in chunks:
        await stream.send(head + (conn.send(h11.Data(data=chunk)) or b""))
        head = b""
    if resp.cut_after is not None:
        if head:
            await stream.send(head)
        return False
    await stream.send(head + (conn.send(h11.EndOfMessage()) or b""))
    return True


async def _refuse(conn: h11.Connection, stream: anyio.abc.ByteStream, status: int) -> None:
    """Answer a request we could not read, if the protocol state still allows an answer."""
    if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
        return
    message = "request body too large" if status == 413 else "malformed HTTP request"
    body = dumps({"error": {"message": message, "type": "invalid_request_error", "code": status}})
    headers = [("content-type", "application/json"), ("content-length", str(len(body)))]
    headers.append(("connection", "close"))
    data = conn.send(h11.Response(status_code=status, headers=headers)) or b""
    await stream.send(data + (conn.send(h11.Data(data=body)) or b""))


async def serve_connection(
    stream: anyio.abc.ByteStream, handler: Handler, *, max_body: int = MAX_BODY
) -> None:
    """Answer requests on one connection, one at a time, until either side closes it.

    Args:
        stream: The accepted connection; closed on return.
        handler: Answers each request.
        max_body: Largest request body accepted; a larger one gets HTTP 413 and a close.
    """
    conn = h11.Connection(h11.SERVER)
    async with stream:
        try:
            while True:
                try:
                    request = await _read_request(conn, stream, max_body)
                except _TooLarge:
                    await _refuse(conn, stream, 413)
                    return
                except h11.RemoteProtocolError as exc:
                    await _refuse(conn, stream, exc.error_status_hint)
                    return
                if request is None:
                    return
                if not await _respond(conn, stream, await handler(request)):
                    return
                if conn.our_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, h11.LocalProtocolError):
            return
