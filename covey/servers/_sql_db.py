"""The sql server's database side: engines locked down by the database, and one query run.

Read-only is the database's job, never a guess from the SQL text. SQLite reads go through a
connection opened with `mode=ro`, `PRAGMA query_only`, and an authorizer that lets compiled
statements only read and call only known functions (see `_sql_sqlite`); PostgreSQL reads run
in a `READ ONLY` transaction on a session whose default is read-only. Every read is rolled
back.

A result is bounded in rows and in bytes: rows are fetched a few at a time, each long value
is cut, and the query stops as soon as the rows so far fill the byte budget.
"""

from __future__ import annotations

import json
import math
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
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ._sql_sqlite import DENIED, Mode, sqlite_engine

__all__ = ["MAX_TEXT", "Database", "FunctionDenied", "Outcome", "explain"]

_MAX_MESSAGE = 500
"""Characters of a database error message passed on."""
_MAX_BLOB = 4096
"""Bytes of a binary value shown; the rest is cut, saying how long it was."""
MAX_TEXT = 16_384
"""Bytes (UTF-8) of a text value shown; the rest is cut, saying how long it was."""
_ROW_BUFFER = 16
"""Rows fetched from the database at a time, so a result past the byte budget stops early."""


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
    stopped: Literal["rows", "bytes"] | None = None
    """Why rows were left out: the row limit or the byte budget; None when none were."""
    values_cut: int = 0
    """Values longer than the per-value limit, cut."""
    rows_affected: int | None = None

    @property
    def truncated(self) -> bool:
        """Rows were left out or values cut."""
        return self.stopped is not None or self.values_cut > 0


class FunctionDenied(Exception):
    """SQLite's authorizer refused a SQL function the query calls."""

    def __init__(self, name: str) -> None:
        """Name the refused function."""
        super().__init__(
            f"not authorized to call {name}(): the server allows SQLite's core, aggregate, "
            "window, date, math, JSON and full-text search functions, and none that reach "
            "memory, files or extensions"
        )


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    unique: list[str] = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return unique


def _cut_text(text: str) -> str | None:
    """`text` cut to `MAX_TEXT` bytes of UTF-8 with a note, or None when it fits."""
    if len(text) * 4 <= MAX_TEXT:  # no character takes more than 4 bytes
        return None
    data = text.encode("utf-8", errors="surrogatepass")
    if len(data) <= MAX_TEXT:
        return None
    kept = data[:MAX_TEXT].decode("utf-8", errors="ignore")
    return f"{kept}...(truncated, {len(data)} bytes)"


@dataclass(kw_only=True, slots=True)
class _Values:
    """Turns database values into JSON, cutting long ones and counting the cuts."""

    cut: int = 0

    def json(self, value: Any) -> Any:
        r"""`value` as JSON: bytes as `\x` + hex, decimals, UUIDs and odd floats as text."""
        if value is None or isinstance(value, bool | int):
            return value
        if isinstance(value, str):
            shown = _cut_text(value)
            self.cut += shown is not None
            return value if shown is None else shown
        if isinstance(value, float):
            return value if math.isfinite(value) else str(value)
        if isinstance(value, bytes | bytearray | memoryview):
            data = bytes(value)  # pyright: ignore[reportUnknownArgumentType]
            if len(data) > _MAX_BLOB:
                self.cut += 1
                return f"\\x{data[:_MAX_BLOB].hex()}...(truncated, {len(data)} bytes)"
            return "\\x" + data.hex()
        if isinstance(value, datetime | date | clock):
            return value.isoformat()
        if isinstance(value, timedelta):
            return value.total_seconds()
        if isinstance(value, Decimal | UUID):
            return str(value)
        if isinstance(value, list | tuple):
            return [self.json(item) for item in value]  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
        if isinstance(value, Mapping):
            items: Mapping[Any, Any] = value  # pyright: ignore[reportUnknownVariableType]
            return {str(k): self.json(v) for k, v in items.items()}
        return self.json(str(value))


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
    if isinstance(error, FunctionDenied):
        return f"{error}. Rewrite the query without it."
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
        max_bytes: int,
        timeout: float,
        schema: str | None = None,
    ) -> None:
        """Engines for `url`, already resolved to its async driver; nothing connects yet."""
        self.dialect = url.get_backend_name()
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.timeout = timeout
        if self.dialect == "sqlite":
            path = Path(url.database or "").expanduser().resolve()
            self.reader = sqlite_engine(path, "read", timeout)
            self.writer = sqlite_engine(path, "write", timeout) if write else None
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
            # asyncpg counts the rows a write changed only when it is not streamed.
            stream = mode == "read" or self.dialect == "sqlite"
            options = {"stream_results": stream, "max_row_buffer": _ROW_BUFFER}
            try:
                result = conn.execution_options(**options).exec_driver_sql(sql)
            except sa_exc.DBAPIError as exc:
                denied = conn.connection.info.pop(DENIED, None)
                if denied is not None:
                    raise FunctionDenied(denied) from exc
                raise
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
            return Outcome(columns=[], rows=[], rows_affected=affected)
        columns = _unique([str(key) for key in result.keys()])
        values = _Values()
        rows: list[dict[str, Any]] = []
        stopped: Literal["rows", "bytes"] | None = None
        spent = 0
        for fetched in result:
            if len(rows) == self.max_rows:
                stopped = "rows"
                break
            row = {name: values.json(value) for name, value in zip(columns, fetched, strict=True)}
            spent += len(json.dumps(row, ensure_ascii=False).encode("utf-8", "surrogatepass"))
            if spent > self.max_bytes:
                stopped = "bytes"
                break
            rows.append(row)
        result.close()  # the rest is never computed (SQLite) or sent (PostgreSQL)
        return Outcome(
            columns=columns,
            rows=rows,
            stopped=stopped,
            values_cut=values.cut,
            rows_affected=affected,
        )

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
