"""Store: URLs, drivers, lifecycle, SQLite settings, schema versions and migrations."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from covey import CoveyError, UsageError
from covey.store import (
    CHECKPOINTS,
    CheckpointStore,
    Component,
    Migration,
    Store,
    StoreError,
    resolve_url,
)

from .conftest import Backend

# -- URLs and drivers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "resolved"),
    [
        ("sqlite:///data/covey.db", "sqlite+aiosqlite:///data/covey.db"),
        ("sqlite+aiosqlite:///data/covey.db", "sqlite+aiosqlite:///data/covey.db"),
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://u:secret@db:5432/covey", "postgresql+asyncpg://u:***@db:5432/covey"),
        ("postgres://u:secret@db/covey", "postgresql+asyncpg://u:***@db/covey"),
        ("postgresql+asyncpg://u@db/covey", "postgresql+asyncpg://u@db/covey"),
    ],
)
async def test_urls_map_to_the_async_drivers(url: str, resolved: str) -> None:
    store = Store.from_url(url)
    assert store.url == resolved
    await store.close()


async def test_resolve_url_keeps_the_password_for_the_engine() -> None:
    assert resolve_url("postgresql://u:secret@db/x").password == "secret"


@pytest.mark.parametrize(
    "url", ["mysql://u@db/x", "sqlite+pysqlite:///x.db", "postgresql+psycopg2://db/x"]
)
async def test_unsupported_url_says_what_to_use(url: str) -> None:
    with pytest.raises(UsageError, match=r"sqlite:///.*postgresql://"):
        Store.from_url(url)


async def test_malformed_url_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="is not a URL"):
        Store.from_url("not a url")


async def test_missing_postgres_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # makes `import asyncpg` fail
    with pytest.raises(StoreError, match=r'pip install "covey\[postgres\]"') as info:
        Store.from_url("postgresql://u:secret@db/covey")
    assert "secret" not in str(info.value)
    assert isinstance(info.value, CoveyError)


async def test_from_env_defaults_to_a_file_in_dot_covey(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with Store.from_env({}) as store:
        assert store.url == f"sqlite+aiosqlite:///{tmp_path}/.covey/covey.db"
        assert store.dialect == "sqlite"
    assert (tmp_path / ".covey" / "covey.db").is_file()


async def test_from_env_reads_covey_db(tmp_path: Path) -> None:
    store = Store.from_env({"COVEY_DB": f"sqlite:///{tmp_path}/other.db"})
    assert store.url == f"sqlite+aiosqlite:///{tmp_path}/other.db"
    await store.close()


async def test_bad_options_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="PostgreSQL only"):
        Store.from_url("sqlite://", schema="covey")
    with pytest.raises(UsageError, match="plain identifier"):
        Store.from_url("postgresql://db/x", schema='x"; drop table y')
    with pytest.raises(UsageError, match="timeout"):
        Store.from_url("sqlite://", timeout=0)


# -- lifecycle and failures ------------------------------------------------------------------


async def test_a_closed_store_cannot_be_reopened(tmp_path: Path) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path}/x.db")
    async with store:
        pass
    with pytest.raises(UsageError, match="Cannot reopen a Store"):
        await store.open()
    with pytest.raises(UsageError, match="Cannot reopen a Store"):
        await store.migrate(CHECKPOINTS)


async def test_unreachable_database_is_a_store_error() -> None:
    store = Store.from_url("postgresql://u:secret@127.0.0.1:1/covey", timeout=5)
    with pytest.raises(
        StoreError,
        match=r"Cannot connect to database 'postgresql\+asyncpg://u:\*\*\*@.*server runs",
    ) as info:
        await store.open()
    assert "secret" not in str(info.value)
    await store.close()


async def test_a_lock_held_past_the_timeout_is_a_store_error(backend: Backend) -> None:
    async with backend.store() as holder, backend.store(timeout=0.5) as waiter:
        await CheckpointStore(holder).commit("t", step=0, delta=[], next_nodes=[])
        await waiter.migrate(CHECKPOINTS)
        async with holder.write() as conn:  # a writer that takes too long
            await conn.execute(sa.text("UPDATE covey_threads SET updated_at = 1"))
            with anyio.fail_after(10), pytest.raises(StoreError, match=r"within 0\.5 s"):
                await CheckpointStore(waiter).commit("t", step=1, delta=[], next_nodes=[])
        await CheckpointStore(waiter).commit("t", step=1, delta=[], next_nodes=[])


async def test_sqlite_file_uses_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    async with Store.from_url(f"sqlite:///{tmp_path}/deep/dir/x.db", timeout=12) as store:
        async with store.read() as conn:
            assert await conn.scalar(sa.text("PRAGMA journal_mode")) == "wal"
            assert await conn.scalar(sa.text("PRAGMA busy_timeout")) == 12_000
            assert await conn.scalar(sa.text("PRAGMA foreign_keys")) == 1


async def test_in_memory_sqlite_keeps_data_across_transactions() -> None:
    async with Store.from_url("sqlite://") as store:
        assert await store.migrate(CHECKPOINTS) == 1
        assert await store.versions() == {"checkpoints": 1}


# -- schema versions and migrations ----------------------------------------------------------


def _component(*steps: str, fail_at: int | None = None) -> Component:
    def make(version: int, ddl: str) -> Migration:
        def apply(conn: sa.Connection) -> None:
            conn.exec_driver_sql(ddl)
            if version == fail_at:
                raise RuntimeError(f"step {version} broke")

        return Migration(version=version, description=ddl, apply=apply)

    return Component(
        name="notes", migrations=tuple(make(i + 1, ddl) for i, ddl in enumerate(steps))
    )


V1 = "CREATE TABLE covey_notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"
V2 = "ALTER TABLE covey_notes ADD COLUMN tag TEXT"
V3 = "CREATE INDEX ix_covey_notes_tag ON covey_notes (tag)"


async def test_schema_version_is_recorded_once_per_component(backend: Backend) -> None:
    async with backend.store() as first:
        assert await first.versions() == {}
        assert await first.migrate(CHECKPOINTS) == 1
        assert await first.migrate(CHECKPOINTS) == 1
    async with backend.store() as second:  # the same database, opened again
        assert await second.migrate(CHECKPOINTS) == 1
        assert await second.migrate(_component(V1)) == 1
        assert await second.versions() == {"checkpoints": 1, "notes": 1}
        async with second.read() as conn:
            rows = await conn.execute(sa.text("SELECT component FROM covey_schema_version"))
            assert sorted(r[0] for r in rows) == ["checkpoints", "notes"]


async def test_a_component_upgrades_only_its_missing_steps(backend: Backend) -> None:
    async with backend.store() as store:
        await store.migrate(_component(V1))
    async with backend.store() as store:  # a newer release of the component
        assert await store.migrate(_component(V1, V2, V3)) == 3
        async with store.write() as conn:
            await conn.execute(
                sa.text("INSERT INTO covey_notes (id, body, tag) VALUES (1, 'b', 't')")
            )
        assert await store.versions() == {"notes": 3}


async def test_a_failed_migration_changes_nothing(backend: Backend) -> None:
    async with backend.store() as store:
        await store.migrate(_component(V1))
        with pytest.raises(RuntimeError, match="step 2 broke"):
            await store.migrate(_component(V1, V2, fail_at=2))
        assert await store.versions() == {"notes": 1}
        async with store.write() as conn:  # step 2's column was rolled back
            with pytest.raises(DBAPIError):
                await conn.execute(sa.text("SELECT tag FROM covey_notes"))


async def test_a_database_newer_than_the_code_is_refused(backend: Backend) -> None:
    async with backend.store() as store:
        await store.migrate(_component(V1, V2))
    async with backend.store() as store:
        with pytest.raises(StoreError, match=r"schema version 2 for 'notes'.*upgrade covey"):
            await store.migrate(_component(V1))


async def test_stores_migrating_at_once_apply_each_step_once(backend: Backend) -> None:
    component = _component(V1, V2)
    versions: list[int] = []
    stores = [backend.store() for _ in range(4)]

    async def migrate(store: Store) -> None:
        versions.append(await store.migrate(component))

    async with anyio.create_task_group() as group:
        for store in stores:
            group.start_soon(migrate, store)
    assert versions == [2, 2, 2, 2]
    for store in stores:
        await store.close()


async def test_migrations_must_be_numbered_in_order() -> None:
    step = Migration(version=2, description="x", apply=lambda conn: None)
    with pytest.raises(UsageError, match=r"numbered \[2\]"):
        Component(name="bad", migrations=(step,))
