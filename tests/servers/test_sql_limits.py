"""The sql server refuses SQL functions that reach memory, and bounds results in bytes.

Each test drives the server as a real process and ends with a valid call: a refused crash
query or a size bomb leaves the server serving.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import IO, Any

import pytest
from mcp import Client

from covey.servers._sql_db import MAX_TEXT

from .conftest import stdio_client_for
from .test_malformed import assert_no_crash
from .test_sql import MODULE, make_birds, pg_schema, text  # noqa: F401  (pg_schema: fixture)

# SQLite built with ENABLE_FTS3_TOKENIZER (Debian's) answers the first with a live address,
# lets the second swap in a pointer of the caller's choosing, and the next MATCH jumps there.
CRASH = [
    "SELECT hex(fts3_tokenizer('simple')) AS address",
    "SELECT fts3_tokenizer('simple', x'4141414141414141')",
    "SELECT body FROM docs WHERE docs MATCH 'hello'",
]
BIG = "printf('%.*c', 20000000, 'x')"
"""A 20 MB text value."""


def make_library(folder: Path) -> str:
    """The birds database plus a full-text table of documents; returns its URL."""
    url = make_birds(folder / "birds.db")
    with sqlite3.connect(folder / "birds.db") as db:
        db.execute("CREATE VIRTUAL TABLE docs USING fts3(body)")
        db.execute("INSERT INTO docs VALUES ('hello from the library'), ('goodbye')")
    db.close()
    return url


def data(result: Any) -> dict[str, Any]:
    assert not result.is_error, text(result)
    structured: dict[str, Any] = result.structured_content or {}
    return structured


async def still_serves(client: Client) -> None:
    found = await client.call_tool(
        "read_query",
        {"query": "SELECT snippet(docs) AS s FROM docs WHERE docs MATCH 'hello'"},
    )
    assert data(found)["rows"] == [{"s": "<b>hello</b> from the library"}]


@pytest.mark.parametrize("write", [False, True], ids=["read-only", "with-write"])
async def test_fts3_tokenizer_is_not_authorized_and_the_server_survives(
    write: bool, tmp_path: Path, errlog: IO[str]
) -> None:
    url = make_library(tmp_path)
    args = ["--db", url, *(["--write"] if write else [])]
    async with stdio_client_for(MODULE, *args, errlog=errlog) as client:
        tools = ["read_query", "write_query"] if write else ["read_query"]
        for tool in tools:
            for query in CRASH[:2]:
                refused = await client.call_tool(tool, {"query": query})
                assert refused.is_error, (tool, query, text(refused))
                assert "not authorized to call fts3_tokenizer()" in text(refused)
            # The tokenizer is intact: a full-text query still finds its row.
            await still_serves(client)
        others = [
            "SELECT rtreenode(2, x'00')",
            "SELECT fts5(NULL)",
            "SELECT optimize(docs) FROM docs",
        ]
        for query in others:
            refused = await client.call_tool("read_query", {"query": query})
            assert refused.is_error and "not authorized to call" in text(refused), query
        # Everyday functions still work, including inside views and recursive queries.
        everyday = await client.call_tool(
            "read_query",
            {
                "query": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                "WHERE i < 3) SELECT group_concat(i) AS g, json_object('a', 1) AS j, "
                "upper(substr('kestrel', 1, 1)) AS u, date('2026-01-02') AS d, "
                "round(sqrt(16)) AS r FROM n"
            },
        )
        assert data(everyday)["rows"] == [
            {"g": "1,2,3", "j": '{"a":1}', "u": "K", "d": "2026-01-02", "r": 4.0}
        ]
    assert_no_crash(errlog)


async def test_sqlite_crash_query_and_size_bombs_then_a_valid_call(
    tmp_path: Path, errlog: IO[str]
) -> None:
    url = make_library(tmp_path)
    args = ["--db", url, "--max-rows", "100000", "--max-bytes", "200000", "--timeout", "30"]
    async with stdio_client_for(MODULE, *args, errlog=errlog) as client:
        for query in CRASH:
            await client.call_tool("read_query", {"query": query})
        one = data(await client.call_tool("read_query", {"query": f"SELECT {BIG} AS big"}))
        three = await client.call_tool(
            "read_query", {"query": f"SELECT {BIG} AS big FROM (VALUES (1), (2), (3))"}
        )
        endless = await client.call_tool(
            "read_query",
            {
                "query": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
                "SELECT i, printf('%.*c', 10000, 'x') AS pad FROM n"
            },
        )
        await still_serves(client)
    assert one["truncated"] and one["row_count"] == 1
    big = one["rows"][0]["big"]
    assert big.startswith("x" * 1000) and big.endswith("...(truncated, 20000000 bytes)")
    assert len(big) < MAX_TEXT + 100
    assert data(three)["row_count"] == 3 and data(three)["truncated"]
    assert "values were longer than" in text(three) and "substr(" in text(three)
    # The endless query stopped once its rows filled the byte budget.
    rows = data(endless)["rows"]
    assert data(endless)["truncated"] and 0 < len(rows) < 40
    assert [row["i"] for row in rows] == list(range(1, len(rows) + 1))
    assert len(json.dumps(rows)) <= 200_000
    assert "limit of 200000 bytes per result (--max-bytes)" in text(endless)
    assert_no_crash(errlog)


async def test_postgres_size_bombs_stop_at_the_byte_budget(
    pg_schema: tuple[str, str],  # noqa: F811
    errlog: IO[str],
) -> None:
    url, schema = pg_schema
    args = ["--db", url, "--schema", schema, "--max-rows", "2000", "--max-bytes", "60000"]
    async with stdio_client_for(MODULE, *args, errlog=errlog) as client:
        three = await client.call_tool(
            "read_query",
            {"query": "SELECT repeat('é', 10000000) AS big FROM generate_series(1, 3)"},
        )
        many = await client.call_tool(
            "read_query",
            {"query": "SELECT i, repeat('x', 1000) AS pad FROM generate_series(1, 100000) i"},
        )
        after = await client.call_tool("read_query", {"query": "SELECT count(*) AS n FROM birds"})
    assert data(three)["row_count"] == 3 and data(three)["truncated"]
    big = data(three)["rows"][0]["big"]
    assert big.endswith("...(truncated, 20000000 bytes)") and len(big.encode()) < MAX_TEXT + 100
    rows = data(many)["rows"]
    assert data(many)["truncated"] and 0 < len(rows) < 100
    assert len(json.dumps(rows)) <= 60_000 and "--max-bytes" in text(many)
    assert data(after)["rows"] == [{"n": 2}]
    assert_no_crash(errlog)
