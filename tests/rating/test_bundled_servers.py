"""`rate_server` against covey's six bundled servers: stdio for each, HTTP with a token for two.

Each dimension is asserted on what the rater actually did and found: the probes that ran (path
escapes on files, loopback targets on fetch, DNS rebinding and the token over HTTP), and the
points covey's own servers lose (undocumented array arguments, names shared with the reference
servers).
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest

from covey.rating import Rating, rate_server
from covey.servers import SERVERS
from tests.servers.conftest import http_process
from tests.servers.external import NpmTools, npm_tools

from .conftest import FAST, rate_all

__all__ = ["npm_tools"]  # a fixture, imported for pytest

TOKEN = "rate-test-token-0123456789"

pytestmark = pytest.mark.timeout(400, func_only=False)


def _birds(directory: Path) -> Path:
    path = directory / "birds.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE birds (name TEXT PRIMARY KEY, wingspan_cm INTEGER)")
        db.execute("INSERT INTO birds VALUES ('kestrel', 76), ('wren', 15)")
    db.close()
    return path


ARGS = {
    "files": ["--root", "{workdir}"],
    "calc": [],
    "time": ["--local-timezone", "UTC"],
    "sql": ["--db", "sqlite:///{workdir}/birds.db"],
    "memory": ["--db", "sqlite:///{workdir}/memory.db"],
    "fetch": [],
}


def _stdio(name: str, copy: list[Path]) -> Callable[[], Awaitable[Rating]]:
    command = [sys.executable, "-m", SERVERS[name], *ARGS[name]]
    return lambda: rate_server(command, copy=copy, options=FAST)


def _http(
    name: str, args: list[str], token: str | None, npm: Path | None = None
) -> Callable[[], Awaitable[Rating]]:
    async def job() -> Rating:
        env = {"COVEY_SERVER_TOKEN": token} if token else {}
        options = replace(FAST, npm_tools=npm) if npm else FAST
        async with http_process(SERVERS[name], *args, env=env) as url:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return await rate_server(url=url, headers=headers, options=options)

    return job


@pytest.fixture(scope="module")
def ratings(tmp_path_factory: pytest.TempPathFactory, npm_tools: NpmTools) -> dict[str, Rating]:
    base = tmp_path_factory.mktemp("rate-bundled")
    birds = _birds(base)
    (base / "root").mkdir()
    jobs = {name: _stdio(name, [birds] if name == "sql" else []) for name in ARGS}
    jobs["calc-http"] = _http("calc", [], TOKEN)
    jobs["files-http"] = _http("files", ["--root", str(base / "root")], TOKEN)
    jobs["time-http"] = _http("time", ["--local-timezone", "UTC"], None, npm_tools.root)
    return rate_all(jobs)


def test_every_bundled_server_is_rated_to_the_end(ratings: dict[str, Rating]) -> None:
    assert set(SERVERS) <= set(ratings)
    for name, rating in ratings.items():
        assert rating.completed, (name, rating.stopped_because)
        assert rating.protocol_versions == ["2025-11-25", "2026-07-28"], name
        assert rating.server_name == f"covey-{name.removesuffix('-http')}"
        assert rating.dimension("protocol").grade == "A", rating.dimension("protocol")
        assert not rating.findings("robustness"), (name, rating.findings("robustness"))
        assert not [f for f in rating.findings("security") if f.severity != "info"], name


def test_protocol_checks_ran(ratings: dict[str, Rating]) -> None:
    checks = ratings["sql"].dimension("protocol").checks
    assert "pass: an unknown tool is a -32602 error" in checks
    assert "pass: tools/list: 5 tools" in checks or "pass: tools/list: 4 tools" in checks
    assert any(c.startswith("pass: answers after a cancelled call") for c in checks)


def test_path_escapes_are_probed_on_every_path_tool_of_files(ratings: dict[str, Rating]) -> None:
    checks = "\n".join(ratings["files"].dimension("security").checks)
    for tool in ("read_text_file", "list_directory", "write_file", "directory_tree"):
        assert f"pass: {tool}.path: no path escape (dot-dot, absolute, symlink" in checks
    assert "pass: move_file.source: no path escape" in checks
    assert "pass: read_multiple_files.paths: no path escape" in checks


def test_loopback_targets_are_probed_on_fetch(ratings: dict[str, Rating]) -> None:
    checks = ratings["fetch"].dimension("security").checks
    assert any(c.startswith("pass: fetch.url: refused loopback targets") for c in checks)


def test_read_only_sql_is_hashed_before_and_after(ratings: dict[str, Rating]) -> None:
    checks = ratings["sql"].dimension("security").checks
    assert "pass: read_query: read-only, and its working directory was unchanged" in checks


@pytest.mark.parametrize("name", ["calc-http", "files-http"])
def test_http_servers_refuse_rebinding_and_a_missing_token(
    name: str, ratings: dict[str, Rating]
) -> None:
    rating = ratings[name]
    assert rating.transport == "http"
    checks = "\n".join(rating.dimension("security").checks)
    assert "a foreign Host (rebind.attacker.example) was refused (4" in checks
    assert "a foreign Origin (rebind.attacker.example) was refused (403)" in checks
    assert "no Authorization header was refused (401)" in checks
    assert "memory is measured only for servers the rater starts" in "\n".join(
        rating.dimension("performance").notes
    )


def test_the_conformance_suites_generic_scenarios_pass_over_http(
    ratings: dict[str, Rating],
) -> None:
    checks = "\n".join(ratings["time-http"].dimension("protocol").checks)
    for scenario in ("server-stateless", "tools-list", "dns-rebinding-protection", "caching"):
        assert f"pass: conformance {scenario}: " in checks, checks
    assert not ratings["time-http"].findings("protocol.conformance")
    notes = " ".join(ratings["calc-http"].dimension("protocol").notes)
    assert "the MCP conformance suite was not run: it cannot send a token" in notes
    notes = " ".join(ratings["calc"].dimension("protocol").notes)
    assert "the MCP conformance suite tests HTTP servers" in notes


def test_where_covey_loses_points_is_reported(ratings: dict[str, Rating]) -> None:
    memory = ratings["memory"].findings("definitions.input_schema.undocumented_arguments")
    assert {f.tool for f in memory} >= {"create_entities", "open_nodes"}
    assert ratings["memory"].dimension("definitions").score == 100 - 3 * 3  # 3 tools at most
    collision = ratings["files"].findings("definitions.name_collision")[0]
    assert "@modelcontextprotocol/server-filesystem" in collision.message


def test_performance_is_measured(ratings: dict[str, Rating]) -> None:
    figures = ratings["calc"].dimension("performance").measurements
    assert figures["ready_s"] > 0 and figures["calls_per_s"] > 0
    assert 10 < figures["memory_mb"] < 2000
