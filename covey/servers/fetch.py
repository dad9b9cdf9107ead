"""The fetch MCP server: a web page as markdown (or as is), in pages a model can read.

Tool name, arguments and paging match the reference fetch server (modelcontextprotocol/servers,
`mcp-server-fetch`). Unless started with `--allow-private` it refuses every address that is not
public internet (loopback, private, link-local, cloud metadata, ...), checked after DNS
resolution and again on every redirect, and connects only to the addresses it checked.

    python -m covey.servers.fetch [--allow-private] [--max-bytes N] [--timeout SECONDS]
                                  [--user-agent UA] [--http HOST:PORT]
"""

from __future__ import annotations

import argparse
import codecs
import functools
import time
from email.message import Message
from typing import Annotated

import anyio
import anyio.to_thread
from pydantic import Field

from ._common import (
    BundledServer,
    SetupError,
    TextResult,
    ToolError,
    add_transport_arguments,
    bad_argument,
    hints,
    run_main,
    text_result,
)
from ._fetch_guard import Fetched, Fetcher, allow_all, public_only
from ._html_text import html_to_markdown

__all__ = ["FetchTools", "build_server", "main"]

DEFAULT_MAX_BYTES = 5_000_000
DEFAULT_TIMEOUT = 30.0
MAX_REDIRECTS = 5
DEFAULT_USER_AGENT = "covey-fetch (autonomous MCP fetch tool)"

_HTML = frozenset({"text/html", "application/xhtml+xml"})
_TEXT = frozenset(
    {
        "application/json", "application/xml", "application/javascript",
        "application/ecmascript", "application/x-javascript", "application/yaml",
        "application/x-yaml", "application/toml", "application/sql", "application/graphql",
        "application/x-sh", "application/x-httpd-php", "application/x-ndjson",
    }
)  # fmt: skip


def _media_type(content_type: str) -> tuple[str, str]:
    """The media type and charset of a Content-Type header ('' when absent)."""
    message = Message()
    message["content-type"] = content_type
    media = message.get_content_type() if content_type.strip() else ""
    charset = message.get_content_charset() or ""
    return media.lower(), charset


def _decode(body: bytes, charset: str) -> str:
    try:
        codecs.lookup(charset or "utf-8")
    except LookupError:
        charset = "utf-8"
    return body.decode(charset or "utf-8", errors="replace")


def _looks_like_html(text: str) -> bool:
    start = text[:200].lstrip().lower()
    return start.startswith(("<!doctype html", "<html")) or "<html" in start


def page_text(fetched: Fetched, *, raw: bool, deadline: float | None = None) -> str:
    """The fetched body as text: HTML as markdown unless `raw`; binary types refused.

    Raises:
        ToolError: the body is not text.
        TimeoutError: converting HTML went past `deadline` (a `time.monotonic()` value).
    """
    media, charset = _media_type(fetched.content_type)
    is_text = media.startswith("text/") or media in _TEXT or media.endswith(("+json", "+xml"))
    if media and not is_text and media not in _HTML:
        raise ToolError(
            f"{fetched.url} is {media}, not text; covey's fetch server returns only HTML and "
            "text content. Fetch a page about the file instead."
        )
    if not media:
        try:
            text = fetched.body.decode(charset or "utf-8")
        except UnicodeDecodeError:
            text = ""
        if "\x00" in text or (fetched.body and not text):
            raise ToolError(
                f"{fetched.url} has no Content-Type and is not UTF-8 text; covey's fetch server "
                "returns only HTML and text content."
            )
    else:
        text = _decode(fetched.body, charset)
    if raw:
        return text
    if media in _HTML or (not media and _looks_like_html(text)):
        return html_to_markdown(text, base_url=fetched.url, deadline=deadline)
    return text


def page_slice(text: str, start_index: int, max_length: int) -> str:
    """`max_length` characters from `start_index`, with a note saying how to read on."""
    if start_index > 0 and start_index >= len(text):
        raise bad_argument(
            "start_index",
            f"{start_index} is past the end of the content ({len(text)} characters)",
            "Use a smaller start_index, or 0 to read from the beginning.",
        )
    end = start_index + max_length
    part = text[start_index:end]
    if end < len(text):
        part += (
            f"\n\n[Content truncated: {len(text) - end} more characters. To read on, call "
            f"fetch again with start_index={end}.]"
        )
    return part


class FetchTools:
    """The fetch tool, bound to a configured `Fetcher`."""

    def __init__(self, fetcher: Fetcher) -> None:
        """Serve pages fetched by `fetcher`."""
        self.fetcher = fetcher

    async def fetch(
        self,
        url: Annotated[
            str, Field(min_length=1, max_length=8192, description="The http(s) URL to fetch.")
        ],
        max_length: Annotated[
            int,
            Field(gt=0, lt=1_000_000, description="Maximum number of characters to return."),
        ] = 5000,
        start_index: Annotated[
            int,
            Field(
                ge=0,
                description="Return content starting at this character index; use it to read "
                "on when a previous call was truncated.",
            ),
        ] = 0,
        raw: Annotated[
            bool, Field(description="Return the page as is, without converting HTML to markdown.")
        ] = False,
    ) -> TextResult:
        """Fetch a URL and return its content, HTML converted to markdown."""
        deadline = time.monotonic() + self.fetcher.timeout
        fetched = await self.fetcher.fetch(url)
        text = page_slice(await self._convert(fetched, raw, deadline), start_index, max_length)
        if fetched.truncated:
            text += (
                f"\n\n[The page is larger than this server's download limit of "
                f"{self.fetcher.max_bytes} bytes; only that much of it was read.]"
            )
        return text_result(f"Contents of {fetched.url}:\n{text}")

    async def _convert(self, fetched: Fetched, raw: bool, deadline: float) -> str:
        """The page as text, converted in a worker thread within the fetch's time limit."""
        convert = functools.partial(page_text, fetched, raw=raw, deadline=deadline)
        try:
            with anyio.fail_after(max(deadline - time.monotonic(), 0)):
                # The event loop serves other calls meanwhile; the converter checks the
                # deadline too, so an abandoned thread stops soon after.
                return await anyio.to_thread.run_sync(convert, abandon_on_cancel=True)
        except TimeoutError:
            raise ToolError(
                f"Converting {fetched.url} to text took longer than {self.fetcher.timeout:g} s "
                "(the server's --timeout, download included); fetch it with raw=true to get "
                "the page as is, or try a smaller page."
            ) from None


def build_server(
    *,
    allow_private: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
    user_agent: str = DEFAULT_USER_AGENT,
) -> BundledServer:
    """The fetch server.

    Raises:
        SetupError: `max_bytes` or `timeout` is not positive, or `user_agent` is blank.
    """
    if max_bytes <= 0:
        raise SetupError(f"--max-bytes {max_bytes}: give a positive number of bytes")
    if not timeout > 0:
        raise SetupError(f"--timeout {timeout:g}: give a positive number of seconds")
    if not user_agent.strip() or any(char in user_agent for char in "\r\n\x00"):
        raise SetupError("--user-agent must be a non-empty single line")
    fetcher = Fetcher(
        policy=allow_all if allow_private else public_only,
        max_bytes=max_bytes,
        timeout=timeout,
        max_redirects=MAX_REDIRECTS,
        user_agent=user_agent,
    )
    tools = FetchTools(fetcher)
    scope = "any address" if allow_private else "public internet addresses only"
    server = BundledServer(
        "covey-fetch",
        instructions=f"Fetches web pages as markdown, in pages of max_length characters ({scope}).",
    )
    server.add_tool(
        tools.fetch,
        description="Fetch a URL from the internet and return its content as text, HTML "
        "converted to markdown (raw=true for the page as is). Long content comes in parts: "
        "when the result says it was truncated, call again with the start_index it gives. "
        f"Reaches {scope}.",
        annotations=hints(read_only=True, open_world=True),
    )
    return server


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="covey serve fetch", description="MCP server that fetches web pages as markdown."
    )
    parser.add_argument(
        "--allow-private",
        action="store_true",
        help="also fetch from loopback, private, link-local and other non-public addresses "
        "(off by default: they reach this machine, its network and cloud metadata services)",
    )
    parser.add_argument(
        "--max-bytes",
        type=int,
        default=DEFAULT_MAX_BYTES,
        metavar="N",
        help=f"read at most N bytes of a response (default: {DEFAULT_MAX_BYTES})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"time limit for one fetch, redirects included (default: {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--user-agent", default=DEFAULT_USER_AGENT, metavar="UA", help="User-Agent header to send"
    )
    add_transport_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the fetch server: `covey serve fetch`."""
    return run_main(
        lambda args: build_server(
            allow_private=args.allow_private,
            max_bytes=args.max_bytes,
            timeout=args.timeout,
            user_agent=args.user_agent,
        ),
        _parser(),
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
