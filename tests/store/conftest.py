"""Fixtures: one database per test, on SQLite (a temporary file) and PostgreSQL.

PostgreSQL comes from `COVEY_TEST_POSTGRES_URL` (`eval "$(.ci/postgres.sh)"` sets it); each
test gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from covey.store import Store

POSTGRES_ENV = "COVEY_TEST_POSTGRES_URL"


@dataclass(kw_only=True, slots=True, frozen=True)
class Backend:
    """Where a test's database is: everything needed to open it again, here or in a process."""

    name: str
    url: str
    schema: str | None = None

    def store(self, **options: float) -> Store:
        return Store.from_url(self.url, schema=self.schema, **options)

    def args(self) -> list[str]:
        """Command-line form for the writer process."""
        return [self.url, self.schema or ""]


def postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail(
            f'{POSTGRES_ENV} is not set, and CI is: run `eval "$(.ci/postgres.sh)"` before '
            "the tests so the PostgreSQL half of the store suite runs."
        )
    pytest.skip(
        f"PostgreSQL store tests skipped: {POSTGRES_ENV} is not set "
        '(run `eval "$(.ci/postgres.sh)"` as root to start a local PostgreSQL).'
    )


@pytest.fixture(params=["sqlite", "postgresql"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield Backend(name="sqlite", url=f"sqlite:///{tmp_path / 'covey.db'}")
        return
    url = postgres_url()
    schema = f"covey_test_{uuid.uuid4().hex[:12]}"
    yield Backend(name="postgresql", url=url, schema=schema)
    async with Store.from_url(url) as admin, admin.write() as conn:
        await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    """An open store on the fresh database."""
    async with backend.store() as opened:
        yield opened
