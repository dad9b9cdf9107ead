"""A local HTTP site the rater starts on 127.0.0.1: the target of SSRF probes.

It answers `/canary` with a secret body and `/redirect` with a redirect to `/canary`, and
records every path it was asked for, so a tool that fetched it is caught even when the tool
hides what it read.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["SITE_CANARY", "ProbeSite", "probe_site"]

SITE_CANARY = "COVEY-LOOPBACK-CANARY-93b2"


@dataclass(kw_only=True, slots=True)
class ProbeSite:
    """The running site: its base URL and the paths requested so far."""

    url: str
    requests: list[str] = field(default_factory=list[str])


def _handler(site: ProbeSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append(self.path)
            if self.path.startswith("/redirect"):
                self.send_response(302)
                self.send_header("Location", f"{site.url}/canary")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = f"<html><body><p>{SITE_CANARY}</p></body></html>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def probe_site() -> Generator[ProbeSite]:
    """Serve the probe site in a thread for the duration of the block."""
    site = ProbeSite(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    site.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
