"""The fetch server against a real local site: markdown, raw, paging, limits, types, redirects."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any

import anyio
import anyio.to_thread
import pytest
from mcp import Client
from mcp_types import CallToolResult

from covey.servers._common import SetupError
from covey.servers._html_text import html_to_markdown
from covey.servers.fetch import build_server, main

from .conftest import http_client_for, http_process, stdio_client_for
from .test_malformed import assert_no_crash, hammer

MODULE = "covey.servers.fetch"
ARTICLE = b"""<!DOCTYPE html><html><head><title>Covey article</title>
<style>body { color: red }</style><script>var secret = "SCRIPT-NOISE";</script></head>
<body><nav><a href="/">NAV-NOISE</a></nav><h1>Hello covey</h1>
<p>Read <a href="/docs/intro.html">the intro</a> first.</p>
<ul><li>alpha</li><li>beta</li></ul><pre><code>print("hi")</code></pre></body></html>"""
LONG = ("".join(f"line {n:04d}\n" for n in range(1200))).encode()
"""12,000 characters of plain text, enough for three pages of 5,000."""


@dataclass
class Site:
    """A local HTTP site whose handler records every request it gets."""

    url: str
    requests: list[tuple[str, str]] = field(default_factory=list[tuple[str, str]])
    """(path, Host header) of each request, in order."""
    release: threading.Event = field(default_factory=threading.Event)
    """Set at teardown so a deliberately stalled response ends."""
    sent: defaultdict[str, threading.Event] = field(
        default_factory=lambda: defaultdict(threading.Event)
    )
    """Path -> set once a response to it has been written."""

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


ROUTES: dict[str, tuple[str, bytes]] = {
    "/article.html": ("text/html; charset=utf-8", ARTICLE),
    "/long.txt": ("text/plain; charset=utf-8", LONG),
    "/data.json": ("application/json", b'{"covey": [1, 2, 3]}'),
    "/tags.txt": ("text/plain", b"<h1>not converted</h1>"),
    "/image.png": ("image/png", b"\x89PNG\r\n\x1a\n" + bytes(200)),
    "/big.txt": ("text/plain", b"x" * 2_000_000),
    "/latin1.txt": ("text/plain; charset=iso-8859-1", "caf\u00e9".encode("latin-1")),
    # 4 MB of small tags: many seconds of HTML parsing, far more than a 3 s --timeout.
    "/tags.html": (
        "text/html",
        b"<html><body>" + b"<b>x</b><i>y</i>" * 250_000 + b"</body></html>",
    ),
}


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path
            site.requests.append((path, self.headers.get("Host", "")))
            if path.startswith("/redirect/"):
                hops = int(path.rsplit("/", 1)[1])
                target = "/article.html" if hops <= 1 else f"/redirect/{hops - 1}"
                return self.reply(302, b"", location=target)
            if path.startswith("/to?"):
                return self.reply(301, b"", location=path[len("/to?") :])
            if path == "/slow":
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "100")
                self.end_headers()
                self.wfile.write(b"partial")
                self.wfile.flush()
                site.release.wait(60)
                return None
            if path not in ROUTES:
                return self.reply(404, b"no such page")
            content_type, body = ROUTES[path]
            self.reply(200, body, content_type=content_type)
            site.sent[path].set()
            return None

        def reply(
            self,
            status: int,
            body: bytes,
            *,
            content_type: str = "text/plain",
            location: str | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if location is not None:
                self.send_header("Location", location)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serve_site(host: str = "127.0.0.1") -> Iterator[Site]:
    """A `Site` on `host` at a free port, for the length of the block."""
    site = Site(url="")
    server = ThreadingHTTPServer((host, 0), _handler(site))
    server.daemon_threads = True
    site.url = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.release.set()
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture
def site() -> Iterator[Site]:
    with serve_site() as running:
        yield running


def text(result: CallToolResult) -> str:
    return getattr(result.content[0], "text", "")


async def test_tool_matches_the_reference_server() -> None:
    async with Client(build_server()) as client:
        tools = (await client.list_tools()).tools
    assert [tool.name for tool in tools] == ["fetch"]
    tool = tools[0]
    properties: dict[str, Any] = tool.input_schema["properties"]
    assert set(properties) == {"url", "max_length", "start_index", "raw"}
    assert tool.input_schema["required"] == ["url"]
    assert properties["max_length"]["default"] == 5000 and properties["raw"]["default"] is False
    assert tool.annotations is not None
    assert tool.annotations.read_only_hint and tool.annotations.open_world_hint
    assert tool.output_schema is not None and "content" in tool.output_schema["properties"]


async def test_pages_text_and_types_over_stdio(site: Site, errlog: IO[str]) -> None:
    async with stdio_client_for(MODULE, "--allow-private", errlog=errlog) as client:
        page = await client.call_tool("fetch", {"url": f"{site.url}/article.html"})
        raw = await client.call_tool("fetch", {"url": f"{site.url}/article.html", "raw": True})
        data = await client.call_tool("fetch", {"url": f"{site.url}/data.json"})
        tags = await client.call_tool("fetch", {"url": f"{site.url}/tags.txt"})
        latin = await client.call_tool("fetch", {"url": f"{site.url}/latin1.txt"})
        image = await client.call_tool("fetch", {"url": f"{site.url}/image.png"})
        missing = await client.call_tool("fetch", {"url": f"{site.url}/nope"})
    markdown = text(page)
    assert not page.is_error and markdown.startswith(f"Contents of {site.url}/article.html:")
    assert "# Hello covey" in markdown
    assert f"[the intro]({site.url}/docs/intro.html)" in markdown
    assert "- alpha\n- beta" in markdown and '```\nprint("hi")\n```' in markdown
    assert "SCRIPT-NOISE" not in markdown and "NAV-NOISE" not in markdown
    assert page.structured_content == {"content": markdown}
    assert ARTICLE.decode() in text(raw)
    assert text(data).endswith('{"covey": [1, 2, 3]}')
    assert text(tags).endswith("<h1>not converted</h1>")
    assert text(latin).endswith("caf\u00e9")
    assert image.is_error and "image/png, not text" in text(image)
    assert missing.is_error and "HTTP 404" in text(missing)
    assert_no_crash(errlog)


async def test_paging_reads_everything_in_order(site: Site) -> None:
    url = f"{site.url}/long.txt"
    parts: list[str] = []
    async with Client(build_server(allow_private=True)) as client:
        start = 0
        while True:
            result = await client.call_tool("fetch", {"url": url, "start_index": start})
            body = text(result).split(":\n", 1)[1]
            if "[Content truncated" not in body:
                parts.append(body)
                break
            content, note = body.split("\n\n[Content truncated", 1)
            assert len(content) == 5000 and f"start_index={start + 5000}" in note
            parts.append(content)
            start += 5000
        small = await client.call_tool("fetch", {"url": url, "max_length": 10, "start_index": 7})
        past = await client.call_tool("fetch", {"url": url, "start_index": 12_000})
        zero = await client.call_tool("fetch", {"url": url, "max_length": 0})
    assert "".join(parts) == LONG.decode() and len(parts) == 3
    assert (
        text(small).split(":\n", 1)[1].startswith("00\nline 00\n\n[Content truncated: 11983 more")
    )
    assert past.is_error and "past the end of the content (12000 characters)" in text(past)
    assert zero.is_error and "max_length" in text(zero)


async def test_download_size_and_time_limits(site: Site, errlog: IO[str]) -> None:
    args = ["--allow-private", "--max-bytes", "1000", "--timeout", "2"]
    async with stdio_client_for(MODULE, *args, errlog=errlog) as client:
        big = await client.call_tool("fetch", {"url": f"{site.url}/big.txt", "max_length": 5000})
        slow = await client.call_tool("fetch", {"url": f"{site.url}/slow"})
        after = await client.call_tool("fetch", {"url": f"{site.url}/data.json"})
    assert not big.is_error
    body = text(big).split(":\n", 1)[1]
    assert body.startswith("x" * 1000 + "\n\n[") and "x" * 1001 not in body
    assert "download limit of 1000 bytes" in body
    assert slow.is_error and "longer than 2 s" in text(slow)
    assert not after.is_error
    assert_no_crash(errlog)


async def test_html_conversion_runs_off_the_loop_within_the_timeout(
    site: Site, errlog: IO[str]
) -> None:
    slow: list[CallToolResult] = []
    quick: list[CallToolResult] = []
    # Converting the page takes about 6 s on a quiet machine, so 2 s always runs out.
    args = ["--allow-private", "--timeout", "2"]
    async with stdio_client_for(MODULE, *args, errlog=errlog) as client:

        async def convert_tags() -> None:
            slow.append(await client.call_tool("fetch", {"url": f"{site.url}/tags.html"}))

        async with anyio.create_task_group() as group:
            group.start_soon(convert_tags)
            sent = await anyio.to_thread.run_sync(site.sent["/tags.html"].wait, 30)
            assert sent, "the site never sent the page"
            # While the big page is converted, the server goes on answering other calls
            # (when the conversion blocked it, at most two got through: one before, one after).
            while not slow and len(quick) < 1000:
                quick.append(await client.call_tool("fetch", {"url": f"{site.url}/article.html"}))
        after = await client.call_tool("fetch", {"url": f"{site.url}/article.html"})
    assert len(quick) >= 3, f"only {len(quick)} calls answered during the conversion"
    assert all(not result.is_error and "# Hello covey" in text(result) for result in quick)
    assert slow[0].is_error, text(slow[0])[:200]
    assert "longer than 2 s" in text(slow[0]) and "raw=true" in text(slow[0])
    assert not after.is_error and "# Hello covey" in text(after)
    assert_no_crash(errlog)


def test_conversion_stops_at_its_deadline() -> None:
    """A worker thread left behind by a timed-out call stops converting, too."""
    page = ROUTES["/tags.html"][1].decode()
    with pytest.raises(TimeoutError):
        html_to_markdown(page, deadline=time.monotonic() - 1)
    assert html_to_markdown(page[:1000] + "</body></html>", deadline=time.monotonic() + 60)


async def test_redirects_are_followed_up_to_a_limit(site: Site) -> None:
    async with Client(build_server(allow_private=True)) as client:
        three = await client.call_tool("fetch", {"url": f"{site.url}/redirect/3"})
        too_many = await client.call_tool("fetch", {"url": f"{site.url}/redirect/9"})
        ftp = await client.call_tool("fetch", {"url": f"{site.url}/to?ftp://example.com/x"})
        named = await client.call_tool("fetch", {"url": site.url.replace("127.0.0.1", "localhost")})
    assert text(three).startswith(f"Contents of {site.url}/article.html:")
    assert "# Hello covey" in text(three)
    assert too_many.is_error and "redirected more than 5 times" in text(too_many)
    assert ftp.is_error and "only http and https" in text(ftp)
    assert named.is_error and "HTTP 404" in text(named)
    redirects = [p for p in site.paths if p.startswith("/redirect/")]
    assert redirects[:3] == ["/redirect/3", "/redirect/2", "/redirect/1"]
    assert len(redirects) == 3 + 6  # the second chain stops after 1 + 5 hops
    # Connections go to the resolved address; the Host header keeps the name asked for.
    assert site.requests[-1] == ("/", f"localhost:{site.url.rsplit(':', 1)[1]}")


async def test_process_over_http(site: Site) -> None:
    async with http_process(MODULE, "--allow-private") as url:
        async with http_client_for(url) as client:
            result = await client.call_tool("fetch", {"url": f"{site.url}/article.html"})
    assert not result.is_error and "# Hello covey" in text(result)


async def test_survives_malformed_calls(site: Site, errlog: IO[str]) -> None:
    async with stdio_client_for(MODULE, "--allow-private", errlog=errlog) as client:
        await hammer(client, seed=3)
        result = await client.call_tool("fetch", {"url": f"{site.url}/article.html"})
    assert not result.is_error and "Hello covey" in text(result)
    assert_no_crash(errlog)


def test_bad_options_stop_the_server(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SetupError, match="--max-bytes"):
        build_server(max_bytes=0)
    with pytest.raises(SetupError, match="--user-agent"):
        build_server(user_agent="a\r\nX-Evil: 1")
    assert main(["--timeout", "0"]) == 2
    assert "--timeout 0: give a positive number of seconds" in capsys.readouterr().err
