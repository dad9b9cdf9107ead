"""The sql server's SQLite engines, locked down by SQLite itself.

Reads go through a connection opened with `mode=ro`, `PRAGMA query_only`, and an authorizer
that lets compiled statements only read (no ATTACH, no writing pragmas). In both modes the
authorizer allows only the SQL functions listed here: core, aggregate, window, date and
time, math, JSON and full-text search functions. Everything else is denied, in particular
what reaches memory, files or extensions: `fts3_tokenizer` (it hands out and takes raw
function pointers, a known route to a crash or code execution), `load_extension`, the
R*Tree node decoders, and functions an unknown build or extension adds.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = ["DENIED", "FUNCTIONS", "Mode", "sqlite_engine"]

Mode = Literal["read", "write"]

DENIED = "denied_function"
"""Key in a pooled connection's `info` naming the last function the authorizer refused."""

FUNCTIONS = frozenset(
    """
    abs changes char coalesce concat concat_ws format glob hex if ifnull iif instr
    last_insert_rowid length like likelihood likely lower ltrim max min nullif octet_length
    printf quote random randomblob replace round rtrim sign soundex sqlite_compileoption_get
    sqlite_compileoption_used sqlite_source_id sqlite_version substr substring subtype
    total_changes trim typeof unhex unicode unistr unistr_quote unlikely upper zeroblob
    avg count group_concat string_agg sum total median percentile percentile_cont
    percentile_disc
    row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value
    nth_value
    date time datetime julianday unixepoch strftime timediff current_date current_time
    current_timestamp
    acos acosh asin asinh atan atan2 atanh ceil ceiling cos cosh degrees exp floor ln log
    log10 log2 mod pi pow power radians sin sinh sqrt tan tanh trunc
    json json_array json_array_length json_error_position json_extract json_insert
    json_object json_patch json_pretty json_quote json_remove json_replace json_set json_type
    json_valid json_group_array json_group_object jsonb jsonb_array jsonb_extract
    jsonb_insert jsonb_object jsonb_patch jsonb_remove jsonb_replace jsonb_set
    jsonb_group_array jsonb_group_object -> ->>
    match snippet highlight bm25 offsets matchinfo fts5_source_id
    """.split()
)
"""SQL functions a query may call; any other is refused as "not authorized"."""

_READ_ACTIONS = frozenset(
    {
        sqlite3.SQLITE_SELECT,
        sqlite3.SQLITE_READ,
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
_SCHEMA_TABLES = frozenset({"sqlite_master", "sqlite_schema"})
_NEVER = frozenset({sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH})
_PROGRESS_STEPS = 1000
"""SQLite virtual machine steps between deadline checks."""

Authorizer = Callable[[int, "str | None", "str | None", "str | None", "str | None"], int]


def _reads(action: int, arg1: str | None, arg2: str | None) -> bool:
    if action in _READ_ACTIONS:
        return True
    # Connecting a full-text (virtual) table asks to update its schema row; the read-only
    # file and `query_only` still refuse any real change to it.
    if action == sqlite3.SQLITE_UPDATE and arg1 in _SCHEMA_TABLES:
        return True
    # A pragma with no argument reads a setting; with one, only introspection is a read.
    return action == sqlite3.SQLITE_PRAGMA and (arg2 is None or arg1 in _INTROSPECTION_PRAGMAS)


def _authorizer(mode: Mode, info: dict[str, Any]) -> Authorizer:
    def authorize(
        action: int, arg1: str | None, arg2: str | None, _db: str | None, _by: str | None
    ) -> int:
        if action == sqlite3.SQLITE_FUNCTION:
            # SQLite passes the function's name as the fourth callback argument.
            if (arg2 or "").lower() in FUNCTIONS:
                return sqlite3.SQLITE_OK
            info[DENIED] = arg2 or "?"
            return sqlite3.SQLITE_DENY
        if mode == "write":
            # Writes go to this database only, never to another file attached for it.
            return sqlite3.SQLITE_DENY if action in _NEVER else sqlite3.SQLITE_OK
        return sqlite3.SQLITE_OK if _reads(action, arg1, arg2) else sqlite3.SQLITE_DENY

    return authorize


def _disable_fts3_tokenizer(connection: Any) -> None:
    # Python 3.12+ can switch the two-argument form off below the authorizer too.
    option = getattr(sqlite3, "SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER", None)
    setconfig = getattr(connection, "setconfig", None)
    if option is not None and setconfig is not None:
        setconfig(option, False)


def _on_connect(mode: Mode) -> Callable[[Any, Any], None]:
    def connect(dbapi_connection: Any, record: Any) -> None:
        info: dict[str, Any] = record.info

        def expired() -> int:
            return int(time.monotonic() > info.get("deadline", math.inf))

        if mode == "read":
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA query_only = ON")
            cursor.close()

        async def lock_down(raw: Any) -> None:
            await raw.set_authorizer(_authorizer(mode, info))
            await raw.set_progress_handler(expired, _PROGRESS_STEPS)
            await raw._execute(_disable_fts3_tokenizer, raw._conn)

        dbapi_connection.run_async(lock_down)

    return connect


def sqlite_engine(path: Path, mode: Mode, timeout: float) -> AsyncEngine:
    """An engine on the SQLite file at `path`, read-only or read-write, locked down."""
    url = sa.URL.create(
        "sqlite+aiosqlite",
        database=path.as_uri(),
        query={"mode": "ro" if mode == "read" else "rw", "uri": "true"},
    )
    engine = create_async_engine(
        url, connect_args={"isolation_level": None, "timeout": min(timeout, 5.0)}
    )
    event.listen(engine.sync_engine, "connect", _on_connect(mode))
    return engine
