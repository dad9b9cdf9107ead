"""The sql MCP server: list tables, describe them, and query any SQLite or PostgreSQL database.

Tool names and arguments match the reference SQLite server (modelcontextprotocol/servers,
`mcp-server-sqlite`): `read_query`, `write_query`, `list_tables`, `describe_table`. The
server is read-only unless started with `--write`, and the database enforces it: reads go
through a read-only connection (SQLite) or a read-only transaction (PostgreSQL) and are
always rolled back, so a write dressed as a read fails even with `--write`.

    python -m covey.servers.sql --db URL [--write] [--max-rows N] [--max-bytes N]
                                [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from mcp_types import CallToolResult
from pydantic import Field
from sqlalchemy import exc as sa_exc
from typing_extensions import TypedDict  # pydantic needs it for TypedDicts before 3.12

from covey._errors import CoveyError
from covey.store import resolve_url

from ._common import (
    BundledServer,
    SetupError,
    ToolError,
    add_transport_arguments,
    bad_argument,
    hints,
    run_main,
    structured_result,
)
from ._sql_db import MAX_TEXT, Database, Outcome, explain

__all__ = ["ColumnInfo", "QueryResult", "TableInfo", "TablesResult", "build_server", "main"]


class QueryResult(TypedDict):
    """The rows a statement returned: at most `--max-rows` of them, `--max-bytes` in all."""

    columns: list[str]
    rows: list[dict[str, Any]]
    """One object per row, column name -> value (bytes as `\\x` + hex, decimals as text)."""
    row_count: int
    """Rows in `rows`."""
    truncated: bool
    """True when rows were left out (past `--max-rows` or `--max-bytes`) or long values cut."""
    rows_affected: int | None
    """Rows a write changed, when the database says; None for reads."""


class TablesResult(TypedDict):
    """The tables in the database (its default schema on PostgreSQL)."""

    tables: list[str]
    views: list[str]


class ColumnInfo(TypedDict):
    """One column of a table."""

    name: str
    type: str
    nullable: bool
    default: str | None
    primary_key: bool


class TableInfo(TypedDict):
    """A table's columns, in order."""

    table_name: str
    columns: list[ColumnInfo]


DEFAULT_MAX_BYTES = 1_000_000
"""Bytes of rows (as JSON) in one result, by default."""
_MIN_BYTES = 1000

Query = Annotated[
    str, Field(min_length=1, max_length=100_000, description="One SQL statement to run.")
]


class SQLTools:
    """The tools, over one `Database`."""

    def __init__(self, database: Database) -> None:
        """Serve `database`."""
        self.db = database

    async def _query(self, sql: str, mode: str) -> Outcome:
        try:
            return await self.db.query(sql, "read" if mode == "read" else "write")
        # Drivers do not all wrap their errors (asyncpg's from a streamed fetch), and any
        # error here comes from running the caller's SQL: report it, never crash on it.
        except Exception as exc:
            problem = explain(exc, mode, self.db.timeout)
            raise ToolError(f"The database refused the query: {problem}") from None

    def _result(self, outcome: Outcome) -> CallToolResult:
        data = QueryResult(
            columns=outcome.columns,
            rows=outcome.rows,
            row_count=len(outcome.rows),
            truncated=outcome.truncated,
            rows_affected=outcome.rows_affected,
        )
        text = json.dumps(data, ensure_ascii=False, indent=1)
        return structured_result("\n".join([text, *self._notes(outcome)]), data)

    def _notes(self, outcome: Outcome) -> list[str]:
        notes: list[str] = []
        if outcome.stopped == "rows":
            notes.append(
                f"(Only the first {self.db.max_rows} rows are shown: add LIMIT/OFFSET or a "
                "narrower WHERE to see others.)"
            )
        elif outcome.stopped == "bytes":
            notes.append(
                f"(The query was stopped after {len(outcome.rows)} rows: they fill this "
                f"server's limit of {self.db.max_bytes} bytes per result (--max-bytes). Select "
                "fewer or shorter columns, or add LIMIT/OFFSET to see the rest.)"
            )
        if outcome.values_cut:
            notes.append(
                f"({outcome.values_cut} values were longer than {MAX_TEXT} bytes (text) or 4096 "
                "bytes (binary) and were cut: read them in parts with substr(column, start, "
                "length).)"
            )
        return notes

    async def read_query(self, query: Query) -> Annotated[CallToolResult, QueryResult]:
        """Run a SELECT (or any statement that only reads) and return its rows."""
        return self._result(await self._query(query, "read"))

    async def write_query(self, query: Query) -> Annotated[CallToolResult, QueryResult]:
        """Run an INSERT, UPDATE, DELETE or DDL statement and commit it."""
        if self.db.writer is None:
            raise ToolError(
                "This server is read-only, so write_query is disabled. Ask the user to restart "
                "it with --write to allow changes; read_query still works."
            )
        return self._result(await self._query(query, "write"))

    async def list_tables(self) -> Annotated[CallToolResult, TablesResult]:
        """List the tables (and views) in the database."""

        def look(inspector: sa.Inspector) -> TablesResult:
            return TablesResult(
                tables=sorted(inspector.get_table_names()),
                views=sorted(inspector.get_view_names()),
            )

        data: TablesResult = await self._inspect(look)
        return structured_result(json.dumps(data, indent=1), data)

    async def describe_table(
        self,
        table_name: Annotated[
            str, Field(min_length=1, max_length=200, description="Name of the table or view.")
        ],
    ) -> Annotated[CallToolResult, TableInfo]:
        """Describe a table's columns: name, type, nullability, default, primary key."""

        def look(inspector: sa.Inspector) -> TableInfo:
            keys = set(inspector.get_pk_constraint(table_name).get("constrained_columns") or [])
            columns = [
                ColumnInfo(
                    name=str(column["name"]),
                    type=str(column["type"]),
                    nullable=bool(column["nullable"]),
                    default=None if column.get("default") is None else str(column["default"]),
                    primary_key=column["name"] in keys,
                )
                for column in inspector.get_columns(table_name)
            ]
            return TableInfo(table_name=table_name, columns=columns)

        try:
            data: TableInfo = await self._inspect(look)
        except sa_exc.NoSuchTableError:
            raise bad_argument(
                "table_name",
                f"there is no table {table_name[:60]!r}",
                "Call list_tables to see the tables.",
            ) from None
        return structured_result(json.dumps(data, ensure_ascii=False, indent=1), data)

    async def _inspect(self, look: Any) -> Any:
        try:
            return await self.db.inspect(look)
        except sa_exc.NoSuchTableError:
            raise
        except Exception as exc:
            problem = explain(exc, "read", self.db.timeout)
            raise ToolError(f"The database could not be inspected: {problem}") from None


def _database(
    db: str | None,
    *,
    write: bool,
    max_rows: int,
    max_bytes: int,
    timeout: float,
    schema: str | None,
) -> Database:
    if not db:
        raise SetupError("--db is required: e.g. --db sqlite:///data.db or --db postgresql://...")
    if max_rows < 1 or timeout <= 0:
        raise SetupError("--max-rows must be at least 1 and --timeout positive seconds")
    if max_bytes < _MIN_BYTES:
        raise SetupError(f"--max-bytes {max_bytes}: give at least {_MIN_BYTES} bytes")
    try:
        url = resolve_url(db)
    except CoveyError as exc:
        raise SetupError(f"--db: {exc}") from None
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            raise SetupError("--db: an in-memory SQLite database is empty; name a file")
        if schema is not None:
            raise SetupError("--schema is for PostgreSQL only; leave it out for SQLite")
        path = Path(url.database or "").expanduser().resolve()
        if not path.is_file():
            if not write:
                raise SetupError(
                    f"--db: no SQLite file at {path}: check the path (sqlite:///relative.db, "
                    "sqlite:////absolute.db), or add --write to create it"
                )
            if not path.parent.is_dir():
                raise SetupError(f"--db: the folder {path.parent} does not exist; create it")
            _create_sqlite(path)
    return Database(
        url, write=write, max_rows=max_rows, max_bytes=max_bytes, timeout=timeout, schema=schema
    )


def _create_sqlite(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA user_version = 0")  # a file is written only once touched
    finally:
        connection.close()


_DESCRIPTIONS = {
    "read_query": "Run one SQL statement that only reads (SELECT, WITH ... SELECT, EXPLAIN) "
    "and return its rows as objects. At most {max_rows} rows and {max_bytes} bytes come back, "
    "long values cut ('truncated' says when anything was left out); the database refuses "
    "anything that would change data.",
    "write_query": "Run one SQL statement that changes the database (INSERT, UPDATE, DELETE, "
    "CREATE, ALTER, DROP) and commit it; RETURNING rows come back. {write_note}",
    "list_tables": "List the names of the tables and views in the database.",
    "describe_table": "Describe a table's columns: name, SQL type, nullable, default, and "
    "whether it is part of the primary key.",
}


def build_server(
    db: str | None,
    *,
    write: bool = False,
    max_rows: int = 500,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = 30.0,
    schema: str | None = None,
) -> BundledServer:
    """The sql server over the database at URL `db`.

    Raises:
        SetupError: no URL, a bad or unsupported URL, a missing SQLite file (read-only), or
            bad limits.
    """
    database = _database(
        db, write=write, max_rows=max_rows, max_bytes=max_bytes, timeout=timeout, schema=schema
    )
    tools = SQLTools(database)
    access = "read-write" if write else "read-only (write_query is disabled)"
    server = BundledServer(
        "covey-sql",
        instructions=f"A {database.dialect} database, {access}. Call list_tables and "
        "describe_table before writing queries; send one SQL statement per call.",
    )
    write_note = "" if write else "Disabled: the server was started read-only (no --write)."
    for name, template in _DESCRIPTIONS.items():
        reads = name != "write_query"
        server.add_tool(
            getattr(tools, name),
            description=template.format(
                max_rows=max_rows, max_bytes=max_bytes, write_note=write_note
            ).strip(),
            annotations=hints(read_only=reads, destructive=not reads),
        )
    server.add_cleanup(database.close)
    return server


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="covey serve sql",
        description="MCP server to list, describe and query a SQLite or PostgreSQL database "
        "(read-only unless --write).",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL: sqlite:///path/data.db or postgresql://user:pw@host/db",
    )
    parser.add_argument(
        "--write", action="store_true", help="enable write_query (default: read-only)"
    )
    parser.add_argument(
        "--max-rows", type=int, default=500, metavar="N", help="rows per result (default 500)"
    )
    parser.add_argument(
        "--max-bytes",
        type=int,
        default=DEFAULT_MAX_BYTES,
        metavar="N",
        help=f"bytes of rows per result; the query stops there (default {DEFAULT_MAX_BYTES})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="time limit per query (default 30)",
    )
    parser.add_argument(
        "--schema", metavar="NAME", help="PostgreSQL schema to use (default: search path)"
    )
    add_transport_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the sql server: `covey serve sql`."""
    return run_main(
        lambda args: build_server(
            args.db,
            write=args.write,
            max_rows=args.max_rows,
            max_bytes=args.max_bytes,
            timeout=args.timeout,
            schema=args.schema,
        ),
        _parser(),
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
