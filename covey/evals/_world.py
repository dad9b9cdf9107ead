"""A trial's world: its own files, SQLite database and memory graph, and servers over them.

The bundled MCP servers are started as processes for this trial only. Setup seeds the
world before the agent runs; end-state scorers read it after.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import AsyncGenerator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anyio.to_thread
from pydantic import BaseModel, ConfigDict, Field

from .._errors import UsageError
from ..store import Entity, GraphView, KnowledgeGraph, Relation, Store
from ..tools import MCPToolset

__all__ = ["MemorySeed", "RelationSeed", "ServerName", "World", "WorldSetup", "create_world"]

ServerName = Literal["files", "sql", "memory", "calc", "time"]
"""The bundled servers a case can give its agent."""


class MemorySeed(BaseModel):
    """An entity to put in the memory graph before the trial."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    type: str = Field(default="thing", min_length=1)
    observations: list[str] = Field(default_factory=list[str])


class RelationSeed(BaseModel):
    """A relation to put in the memory graph before the trial: `from type to`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: str = Field(alias="from", min_length=1)
    target: str = Field(alias="to", min_length=1)
    type: str = Field(min_length=1)


class WorldSetup(BaseModel):
    """What a trial's world holds before the agent starts."""

    model_config = ConfigDict(extra="forbid")

    files: dict[str, str] = Field(default_factory=dict[str, str])
    """Relative path -> text, written under the files server's root."""
    sql: list[str] = Field(default_factory=list[str])
    """SQL scripts run, in order, on the world's SQLite database (the sql server's)."""
    memory: list[MemorySeed] = Field(default_factory=list[MemorySeed])
    """Entities loaded into the memory server's graph."""
    relations: list[RelationSeed] = Field(default_factory=list[RelationSeed])
    """Relations between those entities."""


@dataclass(kw_only=True, slots=True, frozen=True)
class World:
    """One trial's files, database and memory graph, under `root`."""

    root: Path
    files_root: Path
    db_path: Path
    memory_path: Path

    def path(self, relative: str) -> Path:
        """A path under the files root.

        Raises:
            UsageError: `relative` would lead outside the files root.
        """
        target = (self.files_root / relative).resolve()
        if target != self.files_root and self.files_root not in target.parents:
            raise UsageError(f"Path {relative!r} leads outside the trial's files root.")
        return target

    def read_file(self, relative: str) -> str | None:
        """A file's text under the files root, or None when it does not exist."""
        target = self.path(relative)
        return target.read_text(errors="replace") if target.is_file() else None

    async def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a query on the world's database, read-only."""

        def run() -> list[tuple[Any, ...]]:
            uri = f"{self.db_path.as_uri()}?mode=ro"
            with sqlite3.connect(uri, uri=True, timeout=10) as db:
                return [tuple(row) for row in db.execute(sql, tuple(parameters)).fetchall()]

        return await anyio.to_thread.run_sync(run)

    async def graph(self, namespace: str = "default") -> GraphView:
        """The memory graph as the agent left it."""
        async with Store(self.memory_url) as store:
            return await KnowledgeGraph(store, namespace).read()

    @property
    def memory_url(self) -> str:
        """The memory server's database URL."""
        return f"sqlite:///{self.memory_path}"

    def server_args(self, name: ServerName) -> list[str]:
        """The command line (after the Python executable) that starts server `name` here."""
        module = ["-m", f"covey.servers.{name}"]
        if name == "files":
            return [*module, "--root", str(self.files_root)]
        if name == "sql":
            return [*module, "--db", f"sqlite:///{self.db_path}", "--write"]
        if name == "memory":
            return [*module, "--db", self.memory_url]
        return module

    @asynccontextmanager
    async def servers(
        self, names: Sequence[ServerName], *, call_timeout: float = 60.0
    ) -> AsyncGenerator[list[MCPToolset]]:
        """Start the named servers over this world; they stop when the block ends."""
        async with AsyncExitStack() as stack:
            started: list[MCPToolset] = []
            for name in dict.fromkeys(names):
                toolset = MCPToolset.stdio(
                    sys.executable, self.server_args(name), name=name, call_timeout=call_timeout
                )
                started.append(await stack.enter_async_context(toolset))
            yield started


async def create_world(setup: WorldSetup, root: Path) -> World:
    """Make a fresh world under `root` (which must not exist yet) and seed it.

    Raises:
        UsageError: a seed file path leads outside the files root, or the SQL fails.
    """
    files_root = root / "files"
    await anyio.Path(files_root).mkdir(parents=True)
    world = World(
        root=root,
        files_root=files_root.resolve(),
        db_path=(root / "world.db").resolve(),
        memory_path=(root / "memory.db").resolve(),
    )
    for relative, text in setup.files.items():
        target = world.path(relative)
        await anyio.Path(target.parent).mkdir(parents=True, exist_ok=True)
        await anyio.Path(target).write_text(text)
    await anyio.to_thread.run_sync(_run_sql, world.db_path, setup.sql)
    if setup.memory or setup.relations:
        await _seed_memory(world, setup)
    return world


async def _seed_memory(world: World, setup: WorldSetup) -> None:
    # Only then: the memory server, and a scorer reading the graph, make the store themselves.
    async with Store(world.memory_url) as store:
        graph = KnowledgeGraph(store)
        entities = [
            Entity(name=m.name, entity_type=m.type, observations=m.observations)
            for m in setup.memory
        ]
        await graph.create_entities(entities)
        await graph.create_relations(
            Relation(source=r.source, relation_type=r.type, target=r.target)
            for r in setup.relations
        )


def _run_sql(path: Path, scripts: Sequence[str]) -> None:
    with sqlite3.connect(path) as db:
        for script in scripts:
            try:
                db.executescript(script)
            except sqlite3.Error as exc:
                raise UsageError(
                    f"The case's setup SQL failed: {exc}. Script: {script[:200]!r}"
                ) from exc
