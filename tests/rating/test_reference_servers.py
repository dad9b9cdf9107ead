"""`covey rate` against servers by others: the pinned npm reference servers (stdio and HTTP)
and a Python server from PyPI (`mcp-server-time`, in its own environment).

Each dimension is asserted on what these servers really do, as found when these tests were
written; a rater that stopped probing would lose these findings and fail.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from covey.rating import Rating, rate_server
from tests.servers.conftest import free_port
from tests.servers.external import REPO, NpmTools, npm_tools

from .conftest import FAST, rate_all

__all__ = ["npm_tools"]  # a fixture, imported for pytest

PY_REF_INSTALLER = REPO / ".ci" / "py-ref-servers.sh"

pytestmark = pytest.mark.timeout(500, func_only=False)


@pytest.fixture(scope="module")
def py_ref() -> Path:
    """The environment holding `mcp-server-time`, installed by .ci/py-ref-servers.sh."""
    root = Path(os.environ.get("COVEY_PY_REF_SERVERS") or REPO / ".tools" / "pyref")
    if not (root / "bin" / "mcp-server-time").exists():
        done = subprocess.run(["bash", str(PY_REF_INSTALLER)], capture_output=True, text=True,
                              timeout=200, check=False)  # fmt: skip
        if done.returncode != 0:
            reason = f"installing mcp-server-time failed: {done.stderr[-500:]}"
            if os.environ.get("CI"):
                pytest.fail(reason, pytrace=False)
            pytest.skip(reason)
    return root


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server-everything exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"server-everything did not listen on port {port} within {timeout:g}s")


@pytest.fixture(scope="module")
def everything_url(npm_tools: NpmTools, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """server-everything over streamable HTTP on a free port."""
    port = free_port()
    log = tmp_path_factory.mktemp("everything") / "server.log"
    command = [str(npm_tools.node), str(npm_tools.server("server-everything")), "streamableHttp"]
    with (
        open(log, "w") as errors,
        subprocess.Popen(
            command, env={**os.environ, "PORT": str(port)}, stdout=errors, stderr=errors
        ) as process,
    ):
        try:
            _wait_for_port(port, process)
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            process.terminate()
            process.wait(10)


def _stdio(command: list[str]) -> Callable[[], Awaitable[Rating]]:
    return lambda: rate_server(command, options=FAST)


@pytest.fixture(scope="module")
def ratings(npm_tools: NpmTools, py_ref: Path, everything_url: str) -> dict[str, Rating]:
    node = str(npm_tools.node)
    memory_file = {"MEMORY_FILE_PATH": "{workdir}/memory.json"}
    jobs = {
        "filesystem": _stdio([node, str(npm_tools.server("server-filesystem")), "{workdir}"]),
        "memory": lambda: rate_server(
            [node, str(npm_tools.server("server-memory"))], env=memory_file, options=FAST
        ),
        "everything": _stdio([node, str(npm_tools.server("server-everything"))]),
        "everything-http": lambda: rate_server(
            url=everything_url, options=replace(FAST, npm_tools=npm_tools.root)
        ),
        "time": _stdio([str(py_ref / "bin" / "mcp-server-time"), "--local-timezone", "UTC"]),
    }
    return rate_all(jobs)


def test_every_reference_server_is_rated_to_the_end(ratings: dict[str, Rating]) -> None:
    for name, rating in ratings.items():
        assert rating.completed, (name, rating.stopped_because)
        assert rating.tools, name


def test_the_npm_servers_speak_only_the_handshake_era(ratings: dict[str, Rating]) -> None:
    for name in ("filesystem", "memory", "everything", "everything-http"):
        assert ratings[name].protocol_versions == ["2025-11-25"], name
        assert ratings[name].findings("protocol.modern_era"), name
        (unknown,) = ratings[name].findings("protocol.unknown_tool")
        assert "tool error" in unknown.message, unknown
    assert ratings["time"].protocol_versions == ["2025-11-25", "2026-07-28"]


def test_filesystem_holds_its_root_and_documents_no_argument(ratings: dict[str, Rating]) -> None:
    rating = ratings["filesystem"]
    checks = "\n".join(rating.dimension("security").checks)
    for tool in ("read_text_file", "list_directory", "write_file", "move_file"):
        assert f"pass: {tool}." in checks and "no path escape" in checks, tool
    assert not [f for f in rating.findings("security")]
    undocumented = rating.findings("definitions.input_schema.undocumented_arguments")
    assert {"read_text_file", "write_file"} <= {f.tool for f in undocumented}


def test_everything_fetches_loopback_and_blocks_on_a_long_operation(
    ratings: dict[str, Rating],
) -> None:
    for name in ("everything", "everything-http"):
        rating = ratings[name]
        (ssrf,) = rating.findings("security.ssrf.loopback")
        assert ssrf.tool == "gzip-file-as-resource"
        assert "/canary?probe=loopback" in str(ssrf.evidence.received)
        hangs = rating.findings("robustness.hang")
        assert {f.tool for f in hangs} == {"trigger-long-running-operation"}
        assert all("other requests were still answered" in f.message for f in hangs)


def test_everything_over_http_accepts_a_foreign_host_and_origin(ratings: dict[str, Rating]) -> None:
    rating = ratings["everything-http"]
    found = {f.check for f in rating.findings("security.http")}
    assert found == {"security.http.dns_rebinding.host", "security.http.dns_rebinding.origin"}
    (conformance,) = rating.findings("protocol.conformance")
    assert conformance.check == "protocol.conformance.dns-rebinding-protection"
    assert "localhost-host-rebinding-rejected" in conformance.message
    assert "no Authorization header was given" in " ".join(rating.dimension("security").notes)


def test_the_python_time_server_passes_every_check(ratings: dict[str, Rating]) -> None:
    rating = ratings["time"]
    assert rating.server_name == "mcp-time"
    for report in rating.dimensions:
        assert report.grade == "A", report
    assert {f.severity for f in rating.findings()} <= {"info"}


def test_reference_servers_get_memory_measured(ratings: dict[str, Rating]) -> None:
    for name in ("filesystem", "memory", "everything", "time"):
        assert ratings[name].dimension("performance").measurements["memory_mb"] > 10, name
