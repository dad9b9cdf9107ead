"""The sql server's read-only mode holds because the database enforces it, not a SQL parser.

Every disguised write below fails, and afterwards the database file's bytes, its rows and
the folder's listing are exactly as before: in read-only mode, and through `read_query`
even when the server was started with `--write`.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import IO

import pytest
from mcp import Client

from .conftest import stdio_client_for
from .test_malformed import assert_no_crash
from .test_sql import MODULE, make_birds, pg_schema, text  # noqa: F401  (pg_schema: fixture)


def sqlite_attacks(folder: Path) -> list[str]:
    return [
        "WITH x AS (SELECT 1) DELETE FROM birds",
        "DELETE FROM birds RETURNING name",
        "UPDATE birds SET wingspan_cm = 0",
        "INSERT INTO birds (name) VALUES ('owl')",
        "REPLACE INTO birds (name, wingspan_cm) VALUES ('wren', 1)",
        "CREATE TABLE t (x INTEGER)",
        "CREATE TEMP TABLE t (x INTEGER)",
        "DROP TABLE birds",
        "ALTER TABLE birds ADD COLUMN x INTEGER",
        "PRAGMA journal_mode=DELETE",
        "PRAGMA journal_mode=WAL",
        "PRAGMA user_version=5",
        "PRAGMA query_only=OFF",
        f"ATTACH DATABASE '{folder}/evil.db' AS e",
        f"ATTACH DATABASE 'file:{folder}/evil2.db?mode=rwc' AS e",
        "CREATE TABLE e.t (x INTEGER)",
        "SELECT 1; DROP TABLE birds",
        "SELECT 1; ATTACH DATABASE 'x.db' AS x",
        f"VACUUM INTO '{folder}/copy.db'",
        "VACUUM",
        "REINDEX",
        "ANALYZE",
        "SELECT load_extension('/tmp/nothing')",
        "UPDATE sqlite_master SET sql = '' WHERE name = 'birds'",
        "PRAGMA writable_schema = ON",
    ]


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def state(folder: Path) -> tuple[list[str], str, list[tuple[object, ...]]]:
    """The folder's listing, the database file's hash, and its rows."""
    path = folder / "birds.db"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT * FROM birds ORDER BY name").fetchall()
    db.close()
    return listing(folder), digest, rows


async def attack(client: Client, statements: list[str]) -> None:
    for statement in statements:
        result = await client.call_tool("read_query", {"query": statement})
        assert result.is_error, (statement, text(result))
        assert "The database refused the query" in text(result), text(result)
    after = await client.call_tool("read_query", {"query": "SELECT count(*) AS n FROM birds"})
    assert (after.structured_content or {})["rows"] == [{"n": 3}]
    # Beneath the authorizer, the reading connection is query-only as well.
    mode = await client.call_tool("read_query", {"query": "PRAGMA query_only"})
    assert (mode.structured_content or {})["rows"] == [{"query_only": 1}]


@pytest.mark.parametrize("write", [False, True], ids=["read-only", "read-query-with-write"])
async def test_sqlite_disguised_writes_change_nothing(
    write: bool, tmp_path: Path, errlog: IO[str]
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    url = make_birds(folder / "birds.db")
    before = state(folder)
    args = ["--db", url, *(["--write"] if write else [])]
    async with stdio_client_for(MODULE, *args, errlog=errlog) as client:
        await attack(client, sqlite_attacks(folder))
        if not write:
            refused = await client.call_tool("write_query", {"query": "DELETE FROM birds"})
            assert refused.is_error and "--write" in text(refused)
    assert state(folder) == before
    assert_no_crash(errlog)


async def test_sqlite_write_query_cannot_attach_other_files(
    tmp_path: Path, errlog: IO[str]
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    url = make_birds(folder / "birds.db")
    async with stdio_client_for(MODULE, "--db", url, "--write", errlog=errlog) as client:
        attached = await client.call_tool(
            "write_query", {"query": f"ATTACH DATABASE '{folder}/evil.db' AS e"}
        )
    assert attached.is_error and "not authorized" in text(attached)
    assert listing(folder) == ["birds.db"]


def postgres_attacks(folder: Path) -> list[str]:
    return [
        "WITH x AS (SELECT 1) DELETE FROM birds",
        "DELETE FROM birds RETURNING name",
        "UPDATE birds SET wingspan_cm = 0",
        "INSERT INTO birds (name) VALUES ('owl')",
        "SELECT 1; DROP TABLE birds",
        "SET default_transaction_read_only = off; DELETE FROM birds",
        "CREATE TABLE t (x INTEGER)",
        "CREATE TEMP TABLE t (x INTEGER)",
        "DROP TABLE birds",
        "TRUNCATE birds",
        "ALTER TABLE birds ADD COLUMN x INTEGER",
        "SELECT * FROM birds FOR UPDATE",
        "VACUUM birds",
        f"COPY birds TO PROGRAM 'touch {folder}/pwned'",
        f"COPY birds TO '{folder}/copy.csv'",
        "CREATE SEQUENCE s",
        "SELECT pg_read_file('/etc/hostname')",
        "SELECT lo_import('/etc/hostname')",
        f"SELECT lo_export(lo_from_bytea(0, 'x'), '{folder}/lo.txt')",
        "COMMIT; DELETE FROM birds",
        "DO $$BEGIN COMMIT; DELETE FROM birds; END$$",
    ]


# Each of these ends the read's transaction or turns the session read-write, if it can; the
# DELETE sent in the next call must still find a read-only transaction.
SESSION_ESCAPES = [
    "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "COMMIT",
    "ROLLBACK",
]


async def test_postgres_disguised_writes_change_nothing(
    pg_schema: tuple[str, str],  # noqa: F811
    tmp_path: Path,
    errlog: IO[str],
) -> None:
    url, schema = pg_schema
    for write in (False, True):
        args = ["--db", url, "--schema", schema, *(["--write"] if write else [])]
        async with stdio_client_for(MODULE, *args, errlog=errlog) as client:
            before = await client.call_tool("read_query", {"query": "SELECT * FROM birds"})
            for statement in postgres_attacks(tmp_path):
                result = await client.call_tool("read_query", {"query": statement})
                assert result.is_error, (write, statement, text(result))
            # A session setting changed inside a read is rolled back with it.
            for escape in SESSION_ESCAPES:
                await client.call_tool("read_query", {"query": escape})
                deleted = await client.call_tool("read_query", {"query": "DELETE FROM birds"})
                assert deleted.is_error, (escape, text(deleted))
                assert "read-only transaction" in text(deleted), (escape, text(deleted))
            after = await client.call_tool("read_query", {"query": "SELECT * FROM birds"})
            tables = await client.call_tool("list_tables", {})
        assert after.structured_content == before.structured_content
        assert (after.structured_content or {})["row_count"] == 2
        assert (tables.structured_content or {})["tables"] == ["birds"]
    assert listing(tmp_path) == ["server-stderr.log"]  # no COPY TO file, no program's file
    assert_no_crash(errlog)


async def test_postgres_privileges_stop_file_and_program_access_even_with_write(
    pg_schema: tuple[str, str],  # noqa: F811
    tmp_path: Path,
    errlog: IO[str],
) -> None:
    """Served as the README says, by a role that is not a superuser, writes reach no files."""
    url, schema = pg_schema
    folder = tmp_path / "out"
    folder.mkdir(mode=0o777)
    args = ["--db", url, "--schema", schema, "--write"]
    async with stdio_client_for(MODULE, *args, errlog=errlog) as client:
        role = await client.call_tool(
            "read_query", {"query": "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"}
        )
        assert (role.structured_content or {})["rows"] == [{"rolsuper": False}]
        for statement in [
            f"COPY birds TO PROGRAM 'touch {folder}/pwned'",
            f"COPY birds TO '{folder}/copy.csv'",
            "COPY birds FROM '/etc/hostname'",
            "SELECT pg_read_file('/etc/hostname')",
            "SELECT pg_ls_dir('/')",
            "SELECT lo_import('/etc/hostname')",
            f"SELECT lo_export(lo_from_bytea(0, 'x'), '{folder}/lo.txt')",
            "CREATE EXTENSION IF NOT EXISTS file_fdw",
        ]:
            refused = await client.call_tool("write_query", {"query": statement})
            assert refused.is_error, (statement, text(refused))
            assert "permission denied" in text(refused) or "superuser" in text(refused), (
                statement,
                text(refused),
            )
        rows = await client.call_tool("read_query", {"query": "SELECT count(*) AS n FROM birds"})
    assert (rows.structured_content or {})["rows"] == [{"n": 2}]
    assert listing(folder) == []
    assert_no_crash(errlog)
