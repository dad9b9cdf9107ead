"""The sql server: the reference server's tools over SQLite and PostgreSQL, as real processes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Any

import pytest
from mcp import Client

from covey.servers._common import SetupError
from covey.servers.sql import build_server
from covey.store import Store

from ..store.conftest import postgres_url
from .conftest import http_client_for, http_process, stdio_client_for
from .test_malformed import assert_no_crash, hammer

MODULE = "covey.servers.sql"


def make_birds(path: Path) -> str:
    """A SQLite file with three birds; returns its URL."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE birds (name TEXT PRIMARY KEY, wingspan_cm INTEGER, photo BLOB)")
        db.executemany(
            "INSERT INTO birds VALUES (?, ?, ?)",
            [("kestrel", 76, b"\x00\xff"), ("wren", 15, None), ("heron", 185, None)],
        )
        db.execute("CREATE VIEW big AS SELECT name FROM birds WHERE wingspan_cm > 50")
    db.close()
    return f"sqlite:///{path}"


@pytest.fixture
def birds(tmp_path: Path) -> str:
    return make_birds(tmp_path / "birds.db")


@asynccontextmanager
async def serve(db: str, **options: Any) -> AsyncIterator[Client]:
    """The server in memory, its database connections closed afterwards."""
    server = build_server(db, **options)
    try:
        async with Client(server) as client:
            yield client
    finally:
        await server.aclose()


def text(result: Any) -> str:
    return getattr(result.content[0], "text", "")


async def test_tools_match_the_reference_and_read(birds: str) -> None:
    async with serve(birds) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        tables = await client.call_tool("list_tables", {})
        described = await client.call_tool("describe_table", {"table_name": "birds"})
        rows = await client.call_tool(
            "read_query", {"query": "SELECT name, photo FROM birds ORDER BY wingspan_cm DESC"}
        )
        same = await client.call_tool("read_query", {"query": "SELECT 1 AS a, 2 AS a, 1.5 AS b"})
        pragma = await client.call_tool("read_query", {"query": "PRAGMA table_info(birds)"})
    assert set(tools) == {"read_query", "write_query", "list_tables", "describe_table"}
    assert set(tools["read_query"].input_schema["properties"]) == {"query"}
    assert set(tools["describe_table"].input_schema["properties"]) == {"table_name"}
    assert all(tool.output_schema is not None for tool in tools.values())
    assert all(tools[name].annotations.read_only_hint for name in ("read_query", "list_tables"))  # type: ignore[union-attr]
    assert tools["write_query"].annotations.destructive_hint  # type: ignore[union-attr]
    assert tables.structured_content == {"tables": ["birds"], "views": ["big"]}
    columns = (described.structured_content or {})["columns"]
    assert [c["name"] for c in columns] == ["name", "wingspan_cm", "photo"]
    assert columns[0]["primary_key"] and not columns[1]["primary_key"]
    assert rows.structured_content == {
        "columns": ["name", "photo"],
        "rows": [
            {"name": "heron", "photo": None},
            {"name": "kestrel", "photo": "\\x00ff"},
            {"name": "wren", "photo": None},
        ],
        "row_count": 3,
        "truncated": False,
        "rows_affected": None,
    }
    assert "kestrel" in text(rows)
    assert (same.structured_content or {})["rows"] == [{"a": 1, "a_2": 2, "b": 1.5}]
    pragma_rows = (pragma.structured_content or {})["rows"]
    assert [row["name"] for row in pragma_rows] == ["name", "wingspan_cm", "photo"]


async def test_errors_name_the_problem_and_the_fix(birds: str) -> None:
    async with serve(birds) as client:
        missing = await client.call_tool("describe_table", {"table_name": "no_such_table"})
        unknown = await client.call_tool("read_query", {"query": "SELECT * FROM owls"})
        syntax = await client.call_tool("read_query", {"query": "SELEKT 1"})
        write = await client.call_tool("write_query", {"query": "DELETE FROM birds"})
    assert missing.is_error and "list_tables" in text(missing)
    assert unknown.is_error and "no such table: owls" in text(unknown)
    assert "list_tables" in text(unknown)
    assert syntax.is_error and "syntax error" in text(syntax)
    assert write.is_error and "--write" in text(write)


async def test_row_limit_truncates_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "many.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE n (i INTEGER)")
        db.executemany("INSERT INTO n VALUES (?)", [(i,) for i in range(50)])
    db.close()
    async with serve(f"sqlite:///{path}", max_rows=10) as client:
        cut = await client.call_tool("read_query", {"query": "SELECT i FROM n ORDER BY i"})
        whole = await client.call_tool("read_query", {"query": "SELECT count(*) AS c FROM n"})
    data = cut.structured_content or {}
    assert data["truncated"] and data["row_count"] == 10
    assert [row["i"] for row in data["rows"]] == list(range(10))
    assert "LIMIT" in text(cut)
    assert (whole.structured_content or {})["rows"] == [{"c": 50}]


async def test_timeout_stops_a_runaway_query(birds: str) -> None:
    endless = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    )
    async with serve(birds, timeout=0.5) as client:
        result = await client.call_tool("read_query", {"query": endless})
        after = await client.call_tool("read_query", {"query": "SELECT 1 AS one"})
    assert result.is_error and "interrupted" in text(result) and "0.5 s" in text(result)
    assert (after.structured_content or {})["rows"] == [{"one": 1}]


async def test_unreachable_database_is_a_tool_error() -> None:
    async with serve("postgresql://covey:nope@127.0.0.1:1/nowhere", timeout=5) as client:
        result = await client.call_tool("read_query", {"query": "SELECT 1"})
    assert result.is_error and "unreachable" in text(result)


def test_setup_errors_say_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match="--db is required"):
        build_server(None)
    with pytest.raises(SetupError, match="not supported"):
        build_server("mysql://localhost/db")
    with pytest.raises(SetupError, match="no SQLite file"):
        build_server(f"sqlite:///{tmp_path / 'missing.db'}")
    assert not (tmp_path / "missing.db").exists()


def test_process_refuses_to_start_with_one_line(tmp_path: Path) -> None:
    for args, expected in (
        ([], "--db is required"),
        (["--db", f"sqlite:///{tmp_path / 'none.db'}"], "no SQLite file"),
        (["--db", "oracle://scott@db/orcl"], "not supported"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", MODULE, *args], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2, done.stderr
        assert expected in done.stderr and len(done.stderr.strip().splitlines()) == 1


async def test_writes_over_stdio_with_write(birds: str, tmp_path: Path, errlog: IO[str]) -> None:
    async with stdio_client_for(MODULE, "--db", birds, "--write", errlog=errlog) as client:
        inserted = await client.call_tool(
            "write_query", {"query": "INSERT INTO birds (name, wingspan_cm) VALUES ('owl', 95)"}
        )
        created = await client.call_tool(
            "write_query", {"query": "CREATE TABLE nests (bird TEXT, eggs INTEGER)"}
        )
        returned = await client.call_tool(
            "write_query",
            {"query": "UPDATE birds SET wingspan_cm = 16 WHERE name = 'wren' RETURNING name"},
        )
        tables = await client.call_tool("list_tables", {})
    assert (inserted.structured_content or {})["rows_affected"] == 1
    assert not created.is_error
    assert (returned.structured_content or {})["rows"] == [{"name": "wren"}]
    assert (tables.structured_content or {})["tables"] == ["birds", "nests"]
    with sqlite3.connect(tmp_path / "birds.db") as db:
        assert db.execute("SELECT wingspan_cm FROM birds WHERE name='owl'").fetchone() == (95,)
    db.close()
    assert_no_crash(errlog)


async def test_write_creates_a_missing_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    async with serve(url, write=True) as client:
        await client.call_tool("write_query", {"query": "CREATE TABLE t (x INTEGER)"})
        tables = await client.call_tool("list_tables", {})
    assert (tables.structured_content or {})["tables"] == ["t"]


async def test_process_over_http(birds: str) -> None:
    async with http_process(MODULE, "--db", birds) as url:
        async with http_client_for(url, mode="legacy") as client:
            result = await client.call_tool(
                "read_query", {"query": "SELECT wingspan_cm FROM birds WHERE name = 'kestrel'"}
            )
    assert (result.structured_content or {})["rows"] == [{"wingspan_cm": 76}]


async def test_survives_malformed_calls(birds: str, errlog: IO[str]) -> None:
    async with stdio_client_for(MODULE, "--db", birds, errlog=errlog) as client:
        await hammer(client, seed=3, skip=frozenset({"list_tables"}))
        result = await client.call_tool("read_query", {"query": "SELECT count(*) AS n FROM birds"})
    assert (result.structured_content or {})["rows"] == [{"n": 3}]
    assert_no_crash(errlog)


@pytest.fixture
async def pg_schema() -> AsyncIterator[tuple[str, str]]:
    """A fresh PostgreSQL schema with the birds table: (URL, schema)."""
    url = postgres_url()
    schema = f"covey_sql_{uuid.uuid4().hex[:12]}"
    async with Store.from_url(url) as admin, admin.write() as conn:
        await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        await conn.exec_driver_sql(
            f'CREATE TABLE "{schema}".birds (name TEXT PRIMARY KEY, wingspan_cm INTEGER, '
            "weight NUMERIC(6, 2), seen TIMESTAMPTZ, photo BYTEA)"
        )
        await conn.exec_driver_sql(
            f"INSERT INTO \"{schema}\".birds VALUES ('kestrel', 76, 0.21, "
            "'2026-05-01T10:00:00+00:00', '\\x00ff'), ('wren', 15, 0.01, NULL, NULL)"
        )
    try:
        yield url, schema
    finally:
        async with Store.from_url(url) as admin, admin.write() as conn:
            await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def test_postgres_read_describe_and_write(
    pg_schema: tuple[str, str], errlog: IO[str]
) -> None:
    url, schema = pg_schema
    args = ["--db", url, "--schema", schema, "--write", "--timeout", "5"]
    async with stdio_client_for(MODULE, *args, errlog=errlog) as client:
        tables = await client.call_tool("list_tables", {})
        described = await client.call_tool("describe_table", {"table_name": "birds"})
        rows = await client.call_tool(
            "read_query", {"query": "SELECT * FROM birds ORDER BY wingspan_cm DESC"}
        )
        missing = await client.call_tool("read_query", {"query": "SELECT * FROM owls"})
        slow = await client.call_tool("read_query", {"query": "SELECT pg_sleep(600)"})
        written = await client.call_tool(
            "write_query", {"query": "DELETE FROM birds WHERE name = 'wren'"}
        )
    assert (tables.structured_content or {})["tables"] == ["birds"]
    names = [c["name"] for c in (described.structured_content or {})["columns"]]
    assert names == ["name", "wingspan_cm", "weight", "seen", "photo"]
    first = (rows.structured_content or {})["rows"][0]
    assert first == {
        "name": "kestrel",
        "wingspan_cm": 76,
        "weight": "0.21",
        "seen": "2026-05-01T10:00:00+00:00",
        "photo": "\\x00ff",
    }
    assert missing.is_error and "does not exist" in text(missing)
    assert "list_tables" in text(missing)
    assert slow.is_error and "statement timeout" in text(slow) and "5 s limit" in text(slow)
    assert (written.structured_content or {})["rows_affected"] == 1
    assert_no_crash(errlog)
