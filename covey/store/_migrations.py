"""Schema versions: each component of covey owns an ordered list of migration steps.

A component (checkpoints, memory, evals, ...) declares its tables and migrations as a
module-level `Component` constant, and calls `Store.migrate(component)` before first use.
Nothing is registered globally: a store only knows the components that asked for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .._errors import UsageError
from ._errors import StoreError

__all__ = ["Component", "Migration", "upgrade", "read_versions", "schema_versions"]

_meta = sa.MetaData()

schema_versions = sa.Table(
    "covey_schema_version",
    _meta,
    sa.Column("component", sa.String, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)
"""One row per component: the last migration step applied to this database."""


@dataclass(kw_only=True, slots=True, frozen=True)
class Migration:
    """One step from version `version - 1` to `version` of a component's tables."""

    version: int
    """The version this step produces; a component's steps are numbered 1, 2, 3, ..."""
    description: str
    """What the step does, for people reading the code and error messages."""
    apply: Callable[[sa.Connection], None]
    """Runs the DDL (and any data changes) on a synchronous connection, inside the
    migration's transaction. Keep it self-contained: once released, a step never changes."""


@dataclass(kw_only=True, slots=True, frozen=True)
class Component:
    """A part of covey that keeps tables in the store, with its migrations in order."""

    name: str
    """Unique name, the key in `covey_schema_version` (for example `checkpoints`)."""
    migrations: tuple[Migration, ...]
    """Steps in order; step `i` (0-based) must have `version == i + 1`."""

    def __post_init__(self) -> None:
        versions = [m.version for m in self.migrations]
        if versions != list(range(1, len(versions) + 1)):
            raise UsageError(
                f"Component {self.name!r} has migrations numbered {versions}: "
                "number them 1, 2, 3, ... in order."
            )

    @property
    def latest(self) -> int:
        """The version the code expects (0 when it has no migrations)."""
        return len(self.migrations)


async def read_versions(conn: AsyncConnection) -> dict[str, int]:
    """Every component's version in this database (empty if none was ever migrated)."""
    exists = await conn.run_sync(lambda c: sa.inspect(c).has_table(schema_versions.name))
    if not exists:
        return {}
    rows = await conn.execute(sa.select(schema_versions.c.component, schema_versions.c.version))
    return {str(name): int(version) for name, version in rows}


async def upgrade(conn: AsyncConnection, component: Component) -> int:
    """Apply the component's missing steps in the caller's write transaction.

    The caller holds the database's migration lock (SQLite: `BEGIN IMMEDIATE`; PostgreSQL:
    an advisory lock), so two processes starting at once apply each step once.

    Returns:
        The component's version, now `component.latest`.

    Raises:
        StoreError: the database is at a newer version than this code knows.
    """
    await conn.run_sync(lambda c: schema_versions.create(c, checkfirst=True))
    found = await conn.scalar(
        sa.select(schema_versions.c.version).where(schema_versions.c.component == component.name)
    )
    current = int(found) if found is not None else 0
    if current > component.latest:
        raise StoreError(
            f"The database has schema version {current} for {component.name!r}, but this "
            f"covey knows only up to {component.latest}: upgrade covey, or use another "
            "database (COVEY_DB)."
        )
    if current == component.latest:
        return current
    for step in component.migrations[current:]:
        await conn.run_sync(step.apply)
    values = {"version": component.latest, "updated_at": time.time()}
    if found is None:
        await conn.execute(schema_versions.insert().values(component=component.name, **values))
    else:
        await conn.execute(
            schema_versions.update()
            .where(schema_versions.c.component == component.name)
            .values(**values)
        )
    return component.latest
