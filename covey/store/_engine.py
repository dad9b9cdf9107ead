"""`Store`: one database URL, one SQLAlchemy async engine, transactions and schema versions."""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import AsyncGenerator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import anyio
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from .._errors import UsageError
from ._errors import StoreError
from ._migrations import Component, read_versions, upgrade

__all__ = ["Store", "resolve_url"]

Dialect = Literal["sqlite", "postgresql"]
_DRIVERS: dict[str, tuple[Dialect, str, str]] = {
    # URL scheme -> (dialect, async driver scheme, module to import)
    "sqlite": ("sqlite", "sqlite+aiosqlite", "aiosqlite"),
    "sqlite+aiosqlite": ("sqlite", "sqlite+aiosqlite", "aiosqlite"),
    "postgresql": ("postgresql", "postgresql+asyncpg", "asyncpg"),
    "postgres": ("postgresql", "postgresql+asyncpg", "asyncpg"),
    "postgresql+asyncpg": ("postgresql", "postgresql+asyncpg", "asyncpg"),
}
_EXTRAS = {"aiosqlite": "pip install aiosqlite", "asyncpg": 'pip install "covey[postgres]"'}
_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_State = Literal["new", "open", "closed"]


def resolve_url(url: str) -> sa.URL:
    """Map a database URL to its async driver.

    `sqlite://` goes to aiosqlite, `postgresql://` and `postgres://` to asyncpg; URLs that
    already name one of these drivers are kept as they are.

    Raises:
        UsageError: the URL is malformed or names a database or driver covey does not support.
        StoreError: the driver is not installed (the message names the `pip install`).
    """
    try:
        parsed = sa.make_url(url)
    except sa_exc.ArgumentError as e:
        raise UsageError(
            f"Database URL {url!r} is not a URL: use sqlite:///path/to/file.db or "
            "postgresql://user:password@host:5432/dbname."
        ) from e
    found = _DRIVERS.get(parsed.drivername)
    if found is None:
        raise UsageError(
            f"Database URL scheme {parsed.drivername!r} is not supported by covey.store: use "
            "sqlite:///path/to/file.db (aiosqlite) or postgresql://user:pw@host/db (asyncpg)."
        )
    dialect, driver, module = found
    try:
        importlib.import_module(module)
    except ImportError as e:
        raise StoreError(
            f"The {dialect} database in {parsed.render_as_string()!r} needs the {module!r} "
            f"driver, which is not installed: {_EXTRAS[module]}"
        ) from e
    return parsed.set(drivername=driver)


def _is_memory(url: sa.URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _on_sqlite_connect(timeout: float) -> Any:
    def connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        # WAL with synchronous=NORMAL survives a killed process; only a power cut can lose
        # the last commits, and the file stays consistent either way.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    return connect


def _on_sqlite_begin(conn: sa.Connection) -> None:
    # The driver's own BEGIN is off (isolation_level=None). A write transaction takes the
    # write lock up front with BEGIN IMMEDIATE, waiting in busy_timeout; a deferred BEGIN
    # that reads first and writes later fails at once with "database is locked" when
    # another process committed in between, whatever the timeout.
    mode = conn.get_execution_options().get("covey_begin", "DEFERRED")
    if mode != "NONE":
        conn.exec_driver_sql(f"BEGIN {mode}")


class Store:
    """The database shared by checkpoints, memory and eval results.

    One URL configures everything: `sqlite:///path.db` (or `sqlite://` in memory) and
    `postgresql://user:pw@host/db` are mapped to their async drivers. A store owns one
    SQLAlchemy engine (a connection pool); open it once per process and share it.

    Example:
        ```python
        async with Store.from_env() as store:
            checkpoints = CheckpointStore(store)
            ...
        ```

    SQLite files use WAL journal mode, a busy timeout, foreign keys, and `BEGIN IMMEDIATE`
    for writes, so several processes can write to one file without "database is locked".
    """

    def __init__(self, url: str, *, schema: str | None = None, timeout: float = 30.0) -> None:
        """Configure a store; no connection is made until `open()` or first use.

        Args:
            url: Database URL (see `resolve_url`).
            schema: PostgreSQL schema for covey's tables (created if missing); default the
                connection's search path. Not supported on SQLite.
            timeout: Seconds any database wait may take: a lock (SQLite busy timeout), a
                connection from the pool, connecting, one statement (PostgreSQL).

        Raises:
            UsageError: bad URL, schema name or timeout.
            StoreError: the URL's driver is not installed.
        """
        if timeout <= 0:
            raise UsageError(f"Store timeout must be positive seconds, got {timeout!r}.")
        self._url = resolve_url(url)
        self.dialect: Dialect = _DRIVERS[self._url.drivername][0]
        """`sqlite` or `postgresql`: components pick dialect-specific SQL (upserts) by it."""
        if schema is not None and (
            self.dialect != "postgresql" or not _SCHEMA_NAME.fullmatch(schema)
        ):
            raise UsageError(
                f"Store schema {schema!r} is not usable: schemas are for PostgreSQL only and "
                "must be a plain identifier (letters, digits, _)."
            )
        self.schema = schema
        """PostgreSQL schema holding covey's tables, or None for the search path's first."""
        self.timeout = timeout
        """Seconds any single database wait may take."""
        self._engine = self._create_engine()
        self._state: _State = "new"
        self._lock = anyio.Lock()
        self._memory_lock = anyio.Lock() if _is_memory(self._url) else None
        self._versions: dict[str, int] = {}

    @classmethod
    def from_url(cls, url: str, *, schema: str | None = None, timeout: float = 30.0) -> Store:
        """A store for `url`; the same as `Store(url, ...)`."""
        return cls(url, schema=schema, timeout=timeout)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        schema: str | None = None,
        timeout: float = 30.0,
    ) -> Store:
        """A store for `COVEY_DB`, or a SQLite file `.covey/covey.db` in the current directory.

        Args:
            environ: Where to read `COVEY_DB` (default `os.environ`).
            schema: As for `Store()`.
            timeout: As for `Store()`.
        """
        env = os.environ if environ is None else environ
        url = env.get("COVEY_DB", "").strip()
        if not url:
            url = f"sqlite+aiosqlite:///{Path.cwd() / '.covey' / 'covey.db'}"
        return cls(url, schema=schema, timeout=timeout)

    @property
    def url(self) -> str:
        """The resolved URL, with any password hidden."""
        return self._url.render_as_string(hide_password=True)

    def _create_engine(self) -> AsyncEngine:
        options: dict[str, Any] = {"pool_timeout": self.timeout}
        if self.dialect == "sqlite":
            options["connect_args"] = {"isolation_level": None, "timeout": self.timeout}
            if _is_memory(self._url):
                options = {"poolclass": sa.StaticPool, "connect_args": options["connect_args"]}
        else:
            connect_args: dict[str, Any] = {
                "timeout": self.timeout,
                "command_timeout": self.timeout,
            }
            if self.schema is not None:
                connect_args["server_settings"] = {"search_path": self.schema}
            options.update(connect_args=connect_args, pool_pre_ping=True)
        engine = create_async_engine(self._url, **options)
        if self.dialect == "sqlite":
            event.listen(engine.sync_engine, "connect", _on_sqlite_connect(self.timeout))
            event.listen(engine.sync_engine, "begin", _on_sqlite_begin)
        return engine

    async def open(self) -> Self:
        """Connect once to check the database and prepare it (idempotent).

        Creates the SQLite file's directory and turns on WAL mode; on PostgreSQL, creates the
        configured schema.

        Raises:
            UsageError: the store was closed.
            StoreError: the database cannot be reached or prepared.
        """
        if self._state == "open":
            return self
        async with self._lock:
            if self._state == "closed":
                raise UsageError("Cannot reopen a Store once it has been closed: make a new one.")
            if self._state == "new":
                await self._prepare()
                self._state = "open"
        return self

    async def _prepare(self) -> None:
        if self.dialect == "sqlite":
            if not _is_memory(self._url) and self._url.database:
                path = await anyio.Path(self._url.database).expanduser()
                await path.parent.mkdir(parents=True, exist_ok=True)
            await self._enable_wal()
            return
        async with self._connection("IMMEDIATE") as conn:
            if self.schema is not None:
                await self._pg_lock(conn, "schema")
                exists = await conn.scalar(
                    sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :name"),
                    {"name": self.schema},
                )
                if exists is None:
                    await conn.exec_driver_sql(f'CREATE SCHEMA "{self.schema}"')
            else:
                await conn.execute(sa.text("SELECT 1"))

    async def _enable_wal(self) -> None:
        # Switching a file to WAL needs an exclusive lock, and SQLite does not call the busy
        # handler for it: a second process opening the same fresh file at the same moment
        # gets "database is locked" at once. Once any process switched, the mode persists in
        # the file, so read it first and retry the switch until `timeout`.
        delay = 0.005
        with anyio.move_on_after(self.timeout):
            while True:
                try:
                    async with self._connection("NONE") as conn:
                        mode = await conn.exec_driver_sql("PRAGMA journal_mode")
                        if str(mode.scalar()).lower() == "wal":
                            return
                        await conn.exec_driver_sql("PRAGMA journal_mode = WAL")
                        return
                except StoreError as e:
                    if "locked" not in str(e) and "busy" not in str(e):
                        raise
                await anyio.sleep(delay)
                delay = min(delay * 2, 0.1)
        raise StoreError(
            f"Database {self.url!r} stayed locked for {self.timeout} s while covey switched it "
            "to WAL mode: another process holds an exclusive lock on the file. Stop it, or "
            "raise Store(timeout=...)."
        )

    async def close(self) -> None:
        """Close every pooled connection. The store cannot be used afterwards."""
        async with self._lock:
            self._state = "closed"
            await self._engine.dispose()

    async def __aenter__(self) -> Self:
        """Open the store."""
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the store."""
        await self.close()

    def read(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A read transaction: `async with store.read() as conn: ...`.

        Raises:
            StoreError: the database failed (other than a constraint violation).
        """
        return self._transaction("DEFERRED")

    def write(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A write transaction, committed when the block exits without error.

        On SQLite it holds the database's write lock from its first statement (other
        writers wait up to `timeout`): keep the block short and never await anything slow
        inside it. Constraint violations (`sqlalchemy.exc.IntegrityError`) pass through
        unchanged so callers can turn them into their own errors.

        Raises:
            StoreError: the database failed (other than a constraint violation).
        """
        return self._transaction("IMMEDIATE")

    @asynccontextmanager
    async def _transaction(self, mode: str) -> AsyncGenerator[AsyncConnection]:
        if self._state != "open":
            await self.open()
        async with self._connection(mode) as conn:
            yield conn

    @asynccontextmanager
    async def _connection(self, mode: str) -> AsyncGenerator[AsyncConnection]:
        guard = self._memory_lock if self._memory_lock is not None else nullcontext()
        try:
            async with guard, self._engine.connect() as conn:
                await conn.execution_options(covey_begin=mode)
                async with conn.begin():
                    yield conn
        except sa_exc.IntegrityError:
            raise
        except (sa_exc.DBAPIError, sa_exc.TimeoutError, OSError, TimeoutError) as e:
            raise StoreError(self._failure(e)) from e

    def _failure(self, error: BaseException) -> str:
        orig = getattr(error, "orig", None) or error
        lines = str(orig).strip().splitlines()
        reason = lines[0] if lines else type(orig).__name__
        timed_out = isinstance(orig, TimeoutError | sa_exc.TimeoutError) or "locked" in reason
        if timed_out:
            return (
                f"Database {self.url!r} did not answer within {self.timeout} s ({reason}): "
                "another transaction held a lock that long, or the server is overloaded. "
                "Raise Store(timeout=...) if such waits are expected."
            )
        if isinstance(orig, OSError):
            return (
                f"Cannot connect to database {self.url!r} ({reason}): check that the server "
                "runs and that the URL (COVEY_DB) is right."
            )
        return f"Database {self.url!r} failed: {reason}"

    async def _pg_lock(self, conn: AsyncConnection, name: str) -> None:
        key = f"covey.store:{name}:{self.schema or ''}"
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})

    async def migrate(self, component: Component) -> int:
        """Bring a component's tables to its latest version (idempotent; cached per store).

        Safe when several processes start at once: they take turns, and each step runs once.

        Returns:
            The component's schema version.

        Raises:
            StoreError: the database is newer than this covey, or failed.
        """
        if self._versions.get(component.name) == component.latest:
            return component.latest
        async with self.write() as conn:
            if self.dialect == "postgresql":
                await self._pg_lock(conn, "migrations")
            version = await upgrade(conn, component)
        self._versions[component.name] = version
        return version

    async def versions(self) -> dict[str, int]:
        """Each component's schema version recorded in the database."""
        async with self.read() as conn:
            return await read_versions(conn)
