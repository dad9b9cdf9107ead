"""`KnowledgeGraph`: entities, relations and observations in the store, per namespace.

The same graph the reference MCP memory server keeps in a JSON file, kept here in SQLite or
PostgreSQL: many processes can share it, it survives restarts, and search is ranked
full-text search rather than a substring scan. The bundled memory server is a thin MCP
front end over this class; agents' long-term memory reads the same rows.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from .._errors import UsageError
from ._engine import Store
from ._knowledge_models import (
    MAX_NAME,
    MAX_OBSERVATION,
    Entity,
    EntityNotFound,
    GraphView,
    ObservationsAdded,
    Relation,
)
from ._knowledge_search import entity_scores, query_words
from ._knowledge_tables import MEMORY, entities, observations, relations

__all__ = [
    "KnowledgeGraph",
    "Entity",
    "Relation",
    "GraphView",
    "ObservationsAdded",
    "EntityNotFound",
    "MAX_NAME",
    "MAX_OBSERVATION",
]


def _text(value: str, what: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise UsageError(f"{what} is empty: give it at least one visible character.")
    if len(text) > limit:
        raise UsageError(
            f"{what} has {len(text)} characters, more than the {limit} allowed: shorten it "
            "(split a long observation into several)."
        )
    if "\x00" in text:
        raise UsageError(f"{what} contains a NUL character: remove it.")
    return text


def _hash(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()


class KnowledgeGraph:
    """A knowledge graph in a `Store`, scoped to one namespace.

    Creating what exists already is a no-op (the result lists only what is new); deleting
    what does not exist is a no-op too. Deleting an entity deletes its observations and
    every relation that touches it.

    Example:
        ```python
        graph = KnowledgeGraph(store, namespace="team-a")
        await graph.create_entities([Entity(name="Ada", entity_type="person")])
        await graph.add_observations({"Ada": ["wrote the first program"]})
        found = await graph.search("program")
        ```
    """

    def __init__(self, store: Store, namespace: str = "default") -> None:
        """Use `store`'s memory tables (created on first use), within `namespace`."""
        self.store = store
        """The database."""
        self.namespace = _text(namespace, "Namespace", MAX_NAME)
        """Which graph of the database this object reads and writes."""

    async def _ready(self) -> None:
        await self.store.migrate(MEMORY)

    def _insert(self, table: sa.Table) -> Any:
        return (postgresql if self.store.dialect == "postgresql" else sqlite).insert(table)

    async def create_entities(self, new: Iterable[Entity]) -> list[Entity]:
        """Add entities with their observations; names already in the graph are skipped.

        Returns:
            The entities that were created.

        Raises:
            UsageError: a name, type or observation is empty or too long.
        """
        wanted: dict[str, Entity] = {}
        for entity in new:
            name = _text(entity.name, "Entity name", MAX_NAME)
            if name not in wanted:
                wanted[name] = Entity(
                    name=name,
                    entity_type=_text(entity.entity_type, f"Type of entity {name!r}", MAX_NAME),
                    observations=self._contents(name, entity.observations),
                )
        if not wanted:
            return []
        await self._ready()
        now = time.time()
        rows = [
            {
                "namespace": self.namespace,
                "name": e.name,
                "entity_type": e.entity_type,
                "created_at": now,
                "updated_at": now,
            }
            for e in wanted.values()
        ]
        statement = self._insert(entities).values(rows).on_conflict_do_nothing()
        async with self.store.write() as conn:
            created = {
                str(n) for n in (await conn.execute(statement.returning(entities.c.name))).scalars()
            }
            made = [e for e in wanted.values() if e.name in created]
            await self._add(conn, {e.name: e.observations for e in made}, now)
        return made

    def _contents(self, entity: str, contents: Iterable[str]) -> list[str]:
        kept: dict[str, None] = {}
        for content in contents:
            kept.setdefault(_text(content, f"An observation of {entity!r}", MAX_OBSERVATION))
        return list(kept)

    async def _add(
        self, conn: AsyncConnection, contents: dict[str, list[str]], now: float
    ) -> dict[str, list[str]]:
        rows = [
            {
                "namespace": self.namespace,
                "entity": name,
                "content": content,
                "content_hash": _hash(content),
                "created_at": now,
                "updated_at": now,
            }
            for name, items in contents.items()
            for content in items
        ]
        added: dict[str, list[str]] = {name: [] for name in contents}
        if not rows:
            return added
        statement = self._insert(observations).values(rows).on_conflict_do_nothing()
        result = await conn.execute(
            statement.returning(observations.c.entity, observations.c.content)
        )
        for row in result:
            added[str(row.entity)].append(str(row.content))
        return added

    async def add_observations(
        self, contents: Mapping[str, Sequence[str]]
    ) -> list[ObservationsAdded]:
        """Add observations to existing entities; ones an entity already has are skipped.

        Raises:
            EntityNotFound: an entity does not exist (nothing is added).
            UsageError: an observation is empty or too long.
        """
        cleaned = {
            _text(name, "Entity name", MAX_NAME): self._contents(name, items)
            for name, items in contents.items()
        }
        if not cleaned:
            return []
        await self._ready()
        async with self.store.write() as conn:
            missing = sorted(set(cleaned) - await self._existing(conn, cleaned))
            if missing:
                raise EntityNotFound(
                    f"No entity named {', '.join(map(repr, missing[:10]))} in namespace "
                    f"{self.namespace!r}: create it first (create_entities), or check the "
                    "spelling with search_nodes.",
                    names=missing,
                )
            added = await self._add(conn, cleaned, time.time())
        return [ObservationsAdded(entity=name, added=items) for name, items in added.items()]

    async def _existing(self, conn: AsyncConnection, names: Iterable[str]) -> set[str]:
        found = await conn.execute(
            sa.select(entities.c.name).where(
                entities.c.namespace == self.namespace, entities.c.name.in_(list(names))
            )
        )
        return {str(name) for name in found.scalars()}

    async def create_relations(self, new: Iterable[Relation]) -> list[Relation]:
        """Add relations between existing entities; ones already there are skipped.

        Raises:
            EntityNotFound: an end of a relation does not exist (nothing is added).
        """
        wanted: dict[tuple[str, str, str], None] = {}
        for relation in new:
            key = (
                _text(relation.source, "Relation source", MAX_NAME),
                _text(relation.relation_type, "Relation type", MAX_NAME),
                _text(relation.target, "Relation target", MAX_NAME),
            )
            wanted.setdefault(key)
        if not wanted:
            return []
        await self._ready()
        ends = {name for source, _, target in wanted for name in (source, target)}
        now = time.time()
        rows = [
            {"namespace": self.namespace, "source": s, "relation_type": r, "target": t}
            | {"created_at": now}
            for s, r, t in wanted
        ]
        statement = self._insert(relations).values(rows).on_conflict_do_nothing()
        async with self.store.write() as conn:
            missing = sorted(ends - await self._existing(conn, ends))
            if missing:
                raise EntityNotFound(
                    f"Relations name entities that do not exist in namespace "
                    f"{self.namespace!r}: {', '.join(map(repr, missing[:10]))}. Create them "
                    "first with create_entities.",
                    names=missing,
                )
            result = await conn.execute(
                statement.returning(
                    relations.c.source, relations.c.relation_type, relations.c.target
                )
            )
            made = {(str(row.source), str(row.relation_type), str(row.target)) for row in result}
        return [
            Relation(source=s, relation_type=r, target=t) for s, r, t in wanted if (s, r, t) in made
        ]

    async def delete_entities(self, names: Iterable[str]) -> int:
        """Delete entities with their observations and relations; returns how many existed."""
        listed = list(dict.fromkeys(names))
        if not listed:
            return 0
        await self._ready()
        async with self.store.write() as conn:
            result = await conn.execute(
                entities.delete().where(
                    entities.c.namespace == self.namespace, entities.c.name.in_(listed)
                )
            )
        return int(result.rowcount)

    async def delete_observations(self, contents: Mapping[str, Sequence[str]]) -> int:
        """Delete the given observations of each entity; returns how many existed."""
        pairs = [(name, _hash(c.strip())) for name, items in contents.items() for c in items]
        if not pairs:
            return 0
        await self._ready()
        deleted = 0
        async with self.store.write() as conn:
            for name, digest in pairs:
                result = await conn.execute(
                    observations.delete().where(
                        observations.c.namespace == self.namespace,
                        observations.c.entity == name,
                        observations.c.content_hash == digest,
                    )
                )
                deleted += int(result.rowcount)
        return deleted

    async def delete_relations(self, gone: Iterable[Relation]) -> int:
        """Delete the given relations; returns how many existed."""
        triples = list(dict.fromkeys((r.source, r.relation_type, r.target) for r in gone))
        if not triples:
            return 0
        await self._ready()
        deleted = 0
        async with self.store.write() as conn:
            for source, relation_type, target in triples:
                result = await conn.execute(
                    relations.delete().where(
                        relations.c.namespace == self.namespace,
                        relations.c.source == source,
                        relations.c.relation_type == relation_type,
                        relations.c.target == target,
                    )
                )
                deleted += int(result.rowcount)
        return deleted

    async def read(self) -> GraphView:
        """The whole graph of the namespace, entities in the order they were created."""
        await self._ready()
        async with self.store.read() as conn:
            return await self._view(conn, None, either_end=False)

    async def open(self, names: Iterable[str]) -> GraphView:
        """The named entities (unknown names are left out) and the relations touching them."""
        listed = list(dict.fromkeys(names))
        await self._ready()
        async with self.store.read() as conn:
            return await self._view(conn, listed, either_end=True)

    async def search(self, query: str, *, limit: int = 20) -> GraphView:
        """Entities whose name, type or observations match `query`, best match first.

        Observations are ranked by full-text relevance (BM25 on SQLite, `ts_rank` on
        PostgreSQL); a word of the query in an entity's name or type counts more. Words
        match as prefixes (`prog` finds `program`). Relations are those between results.
        """
        if limit < 1:
            raise UsageError(f"Search limit must be at least 1, got {limit}.")
        words = query_words(query)
        if not words:
            return GraphView(entities=[], relations=[])
        await self._ready()
        async with self.store.read() as conn:
            scores = await entity_scores(
                conn, self.store.dialect, self.namespace, words, query.strip().lower()
            )
            best = sorted(scores, key=lambda name: (-scores[name], name))[:limit]
            view = await self._view(conn, best, either_end=False)
        order = {name: index for index, name in enumerate(best)}
        view.entities.sort(key=lambda e: order[e.name])
        return view

    async def _view(
        self, conn: AsyncConnection, names: list[str] | None, *, either_end: bool
    ) -> GraphView:
        where_entities = [entities.c.namespace == self.namespace]
        where_obs = [observations.c.namespace == self.namespace]
        where_rel = [relations.c.namespace == self.namespace]
        if names is not None:
            where_entities.append(entities.c.name.in_(names))
            where_obs.append(observations.c.entity.in_(names))
            ends = (relations.c.source.in_(names), relations.c.target.in_(names))
            where_rel.append(sa.or_(*ends) if either_end else sa.and_(*ends))
        found = await conn.execute(
            sa.select(entities.c.name, entities.c.entity_type)
            .where(*where_entities)
            .order_by(entities.c.created_at, entities.c.name)
        )
        facts: dict[str, list[str]] = {}
        for entity, content in await conn.execute(
            sa.select(observations.c.entity, observations.c.content)
            .where(*where_obs)
            .order_by(observations.c.id)
        ):
            facts.setdefault(str(entity), []).append(str(content))
        edges = await conn.execute(
            sa.select(relations.c.source, relations.c.relation_type, relations.c.target)
            .where(*where_rel)
            .order_by(relations.c.created_at, relations.c.source, relations.c.target)
        )
        return GraphView(
            entities=[
                Entity(name=str(n), entity_type=str(t), observations=facts.get(str(n), []))
                for n, t in found
            ],
            relations=[Relation(source=s, relation_type=r, target=t) for s, r, t in edges],
        )
