"""The sql server's database side: engines locked down by the database, and one query run.

Read-only is the database's job, never a guess from the SQL text. SQLite reads go through a
connection opened with `mode=ro`, `PRAGMA query_only`, and an authorizer that lets compiled
statements only read (no ATTACH, no writing pragmas); PostgreSQL reads run in a `READ ONLY`
transaction on a session whose default is read-only. Every read is rolled back.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = ["Database", "Outcome", "explain", "jsonable"]

Mode = Literal["read", "write"]

_READ_ACTIONS = frozenset(
    {
        sqlite3.SQLITE_SELECT,
        sqlite3.SQLITE_READ,
        sqlite3.SQLITE_FUNCTION,
        sqlite3.SQLITE_TRANSACTION,
        getattr(sqlite3, "SQLITE_RECURSIVE", 33),
    }
)
_INTROSPECTION_PRAGMAS = frozenset(
    {
        "table_info",
        "table_xinfo",
        "index_list",
        "index_info",
        "index_xinfo",
        "foreign_key_list",
        "table_list",
    }
)
_NEVER = frozenset({sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH})
_MAX_MESSAGE = 500
"""Characters of a database error message passed on."""
_MAX_BYTES = 4096
"""Bytes of a binary value shown; the rest is cut, saying how long it was."""
_PROGRESS_STEPS = 1000
"""SQLite virtual machine steps between deadline checks."""


def _read_authorizer(action: int, arg1: str | None, arg2: str | None, *_: object) -> int:
    if action in _READ_ACTIONS:
        return sqlite3.SQLITE_OK
    # A pragma with no argument reads a setting; with one, only introspection is a read.
    if action == sqlite3.SQLITE_PRAGMA and (arg2 is None or arg1 in _INTROSPECTION_PRAGMAS):
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _write_authorizer(action: int, *_: object) -> int:
    # Writes go to this database only, never to another file attached for the purpose.
    return sqlite3.SQLITE_DENY if action in _NEVER else sqlite3.SQLITE_OK


def _on_sqlite_connect(mode: Mode) -> Callable[[Any, Any], None]:
    authorizer = _read_authorizer if mode == "read" else _write_authorizer

    def connect(dbapi_connection: Any, record: Any) -> None:
        info: dict[str, float] = record.info

        def expired() -> int:
            return int(time.monotonic() > info.get("deadline", math.inf))

        if mode == "read":
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA query_only = ON")
            cursor.close()

        async def lock_down(raw: Any) -> None:
            await raw.set_authorizer(authorizer)
            await raw.set_progress_handler(expired, _PROGRESS_STEPS)

        dbapi_connection.run_async(lock_down)

    return connect


def _sqlite_engine(path: Path, mode: Mode, timeout: float) -> AsyncEngine:
    url = sa.URL.create(
        "sqlite+aiosqlite",
        database=path.as_uri(),
        query={"mode": "ro" if mode == "read" else "rw", "uri": "true"},
    )
    engine = create_async_engine(
        url, connect_args={"isolation_level": None, "timeout": min(timeout, 5.0)}
    )
    event.listen(engine.sync_engine, "connect", _on_sqlite_connect(mode))
    return engine


def _postgres_engine(url: sa.URL, mode: Mode, timeout: float, schema: str | None) -> AsyncEngine:
    settings = {"default_transaction_read_only": "on" if mode == "read" else "off"}
    if schema is not None:
        settings["search_path"] = schema
    connect_args: dict[str, Any] = {
        "timeout": timeout,
        "command_timeout": timeout + 5,
        "server_settings": settings,
    }
    return create_async_engine(url, connect_args=connect_args, pool_pre_ping=True)


@dataclass(kw_only=True, slots=True)
class Outcome:
    """What one statement gave back."""

    columns: list[str]
    rows: list[dict[str, Any]]
    truncated: bool
    rows_affected: int | None


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    unique: list[str] = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return unique


def jsonable(value: Any) -> Any:
    r"""A database value as JSON: bytes as `\x` + hex, decimals, UUIDs and odd floats as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)  # pyright: ignore[reportUnknownArgumentType]
        if len(data) > _MAX_BYTES:
            return f"\\x{data[:_MAX_BYTES].hex()}...(truncated, {len(data)} bytes)"
        return "\\x" + data.hex()
    if isinstance(value, datetime | date | clock):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    if isinstance(value, Mapping):
        items: Mapping[Any, Any] = value  # pyright: ignore[reportUnknownVariableType]
        return {str(k): jsonable(v) for k, v in items.items()}
    return str(value)


def _message(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error)
    # asyncpg's errors arrive as "<class 'asyncpg.exceptions.X'>: message".
    text = text.split(">: ", 1)[-1] if text.startswith("<class ") else text
    text = " ".join(text.split()).rstrip(".")
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + "...(truncated)"


def _hint(message: str, mode: str, timeout: float) -> str:
    lowered = message.lower()
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return "Call list_tables to see the tables, and describe_table for their columns."
    if "no such column" in lowered or ("column" in lowered and "does not exist" in lowered):
        return "Call describe_table to see the table's columns."
    if "connect" in lowered or "password authentication" in lowered:
        return (
            "The database is unreachable: check that it is running and that the server's "
            "--db URL (host, port, user, password) is right."
        )
    if "one statement" in lowered or "multiple commands" in lowered:
        return "Send exactly one SQL statement per call."
    if "interrupted" in lowered or "timeout" in lowered:
        return f"The query ran past the {timeout:g} s limit: narrow it with WHERE or LIMIT."
    if mode == "read" and any(
        word in lowered for word in ("not authorized", "readonly", "read-only", "query_only")
    ):
        return "read_query only reads; use write_query to change data."
    return "Check the SQL against the tables (list_tables, describe_table) and try again."


def explain(error: BaseException, mode: str, timeout: float) -> str:
    """The database's message for `error` and what the caller can do about it."""
    message = _message(error) or type(error).__name__
    return f"{message}. {_hint(message, mode, timeout)}"


class Database:
    """A reader (always) and a writer (with `--write`) over one database URL."""

    def __init__(
        self,
        url: sa.URL,
        *,
        write: bool,
        max_rows: int,
        timeout: float,
        schema: str | None = None,
    ) -> None:
        """Engines for `url`, already resolved to its async driver; nothing connects yet."""
        self.dialect = url.get_backend_name()
        self.max_rows = max_rows
        self.timeout = timeout
        if self.dialect == "sqlite":
            path = Path(url.database or "").expanduser().resolve()
            self.reader = _sqlite_engine(path, "read", timeout)
            self.writer = _sqlite_engine(path, "write", timeout) if write else None
        else:
            self.reader = _postgres_engine(url, "read", timeout, schema)
            self.writer = _postgres_engine(url, "write", timeout, schema) if write else None

    async def close(self) -> None:
        """Close both engines' connections."""
        await self.reader.dispose()
        if self.writer is not None:
            await self.writer.dispose()

    def _begin(self, conn: sa.Connection, mode: Mode) -> None:
        conn.connection.info["deadline"] = time.monotonic() + self.timeout
        if self.dialect == "sqlite":
            conn.exec_driver_sql("BEGIN" if mode == "read" else "BEGIN IMMEDIATE")
            return
        if mode == "read":
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(self.timeout * 1000)}")

    def _end(self, conn: sa.Connection, *, commit: bool) -> None:
        conn.connection.info.pop("deadline", None)
        if self.dialect == "sqlite":
            if conn.connection.dbapi_connection is not None:
                raw: Any = conn.connection.dbapi_connection
                if raw.driver_connection.in_transaction:
                    conn.exec_driver_sql("COMMIT" if commit else "ROLLBACK")
            return
        if commit:
            conn.commit()
        else:
            conn.rollback()

    def _run(self, conn: sa.Connection, sql: str, mode: Mode) -> Outcome:
        self._begin(conn, mode)
        committed = False
        try:
            options = {"stream_results": True} if mode == "read" else {}
            result = conn.execution_options(**options).exec_driver_sql(sql)
            outcome = self._collect(result, mode)
            if mode == "write":
                self._end(conn, commit=True)
                committed = True
            return outcome
        finally:
            if not committed:
                self._end(conn, commit=False)

    def _collect(self, result: sa.CursorResult[Any], mode: Mode) -> Outcome:
        affected = result.rowcount if mode == "write" and result.rowcount >= 0 else None
        if not result.returns_rows:
            return Outcome(columns=[], rows=[], truncated=False, rows_affected=affected)
        columns = _unique([str(key) for key in result.keys()])
        fetched = result.fetchmany(self.max_rows + 1)
        result.close()
        rows = [
            {name: jsonable(value) for name, value in zip(columns, row, strict=True)}
            for row in fetched[: self.max_rows]
        ]
        truncated = len(fetched) > self.max_rows
        return Outcome(columns=columns, rows=rows, truncated=truncated, rows_affected=affected)

    async def query(self, sql: str, mode: Mode) -> Outcome:
        """Run one statement: reads rolled back on the reader, writes committed on the writer.

        Raises:
            sqlalchemy.exc.DBAPIError: the database refused or failed the statement.
        """
        engine = self.reader if mode == "read" else self.writer
        assert engine is not None, "write queries need a writer (--write)"
        async with engine.connect() as conn:
            return await conn.run_sync(self._run, sql, mode)

    async def inspect(self, look: Callable[[sa.Inspector], Any]) -> Any:
        """Call `look` with an inspector on the reader, in a rolled-back read transaction."""

        def run(conn: sa.Connection) -> Any:
            self._begin(conn, "read")
            try:
                return look(sa.inspect(conn))
            finally:
                self._end(conn, commit=False)

        async with self.reader.connect() as conn:
            return await conn.run_sync(run)
