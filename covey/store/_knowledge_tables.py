"""Tables of the `memory` component: a knowledge graph of entities, relations and observations.

Every row carries a `namespace` (an agent, a user, a team), so one database holds many
separate graphs. Observations are also what agents keep as long-term memories, so the
bundled memory MCP server and the agents read and write the same rows. Full-text search
over observations is SQLite FTS5 (BM25) or a PostgreSQL `tsvector` GIN index.
"""

from __future__ import annotations

import sqlalchemy as sa

from ._migrations import Component, Migration

__all__ = [
    "MEMORY",
    "entities",
    "observations",
    "relations",
    "vectors",
    "FTS_TABLE",
    "PG_TEXT_CONFIG",
]

metadata = sa.MetaData()

FTS_TABLE = "covey_memory_fts"
"""SQLite FTS5 table over `covey_memory_observations.content` (external content)."""

PG_TEXT_CONFIG = "english"
"""PostgreSQL text search configuration used for the index and every query."""

entities = sa.Table(
    "covey_memory_entities",
    metadata,
    sa.Column("namespace", sa.String, primary_key=True),
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("entity_type", sa.String, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

observations = sa.Table(
    "covey_memory_observations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("namespace", sa.String, nullable=False),
    sa.Column("entity", sa.String, nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),  # sha256: dedupe long texts
    sa.Column("meta", sa.Text, nullable=False, server_default="{}"),  # JSON object
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.ForeignKeyConstraint(
        ["namespace", "entity"],
        ["covey_memory_entities.namespace", "covey_memory_entities.name"],
        ondelete="CASCADE",
    ),
    sa.UniqueConstraint("namespace", "entity", "content_hash", name="uq_covey_memory_observation"),
)

relations = sa.Table(
    "covey_memory_relations",
    metadata,
    sa.Column("namespace", sa.String, primary_key=True),
    sa.Column("source", sa.String, primary_key=True),
    sa.Column("relation_type", sa.String, primary_key=True),
    sa.Column("target", sa.String, primary_key=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.ForeignKeyConstraint(
        ["namespace", "source"],
        ["covey_memory_entities.namespace", "covey_memory_entities.name"],
        ondelete="CASCADE",
    ),
    sa.ForeignKeyConstraint(
        ["namespace", "target"],
        ["covey_memory_entities.namespace", "covey_memory_entities.name"],
        ondelete="CASCADE",
    ),
)

sa.Index("ix_covey_memory_relations_target", relations.c.namespace, relations.c.target)

vectors = sa.Table(
    "covey_memory_vectors",
    metadata,
    sa.Column(
        "observation_id",
        sa.Integer,
        sa.ForeignKey("covey_memory_observations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("namespace", sa.String, nullable=False, index=True),
    sa.Column("model", sa.String, nullable=False),  # which embedding model made it
    sa.Column("vector", sa.LargeBinary, nullable=False),  # float32, little-endian
)

_SQLITE_FTS = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
    "content, content='covey_memory_observations', content_rowid='id', "
    "tokenize='porter unicode61')",
    # External-content FTS5 is kept in step by triggers (they fire for cascaded deletes too).
    f"CREATE TRIGGER covey_memory_fts_insert AFTER INSERT ON covey_memory_observations BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, content) VALUES (new.id, new.content); END",
    f"CREATE TRIGGER covey_memory_fts_delete AFTER DELETE ON covey_memory_observations BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content) "
    "VALUES ('delete', old.id, old.content); END",
    f"CREATE TRIGGER covey_memory_fts_update AFTER UPDATE OF content "
    f"ON covey_memory_observations BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content) "
    "VALUES ('delete', old.id, old.content); "
    f"INSERT INTO {FTS_TABLE}(rowid, content) VALUES (new.id, new.content); END",
)

_PG_FTS = (
    "CREATE INDEX ix_covey_memory_observations_fts ON covey_memory_observations "
    f"USING gin (to_tsvector('{PG_TEXT_CONFIG}', content))",
)


def _v1(conn: sa.Connection) -> None:
    # Version 1 is today's tables. When a version 2 changes them, freeze this step by
    # copying the version-1 table definitions here.
    metadata.create_all(conn, tables=[entities, observations, relations])
    conn.execute(
        sa.text(
            "CREATE INDEX ix_covey_memory_observations_entity "
            "ON covey_memory_observations (namespace, entity, id)"
        )
    )
    for statement in _SQLITE_FTS if conn.dialect.name == "sqlite" else _PG_FTS:
        conn.execute(sa.text(statement))


def _v2(conn: sa.Connection) -> None:
    metadata.create_all(conn, tables=[vectors])


MEMORY = Component(
    name="memory",
    migrations=(
        Migration(
            version=1,
            description="knowledge graph: entities, observations (full-text indexed), relations",
            apply=_v1,
        ),
        Migration(version=2, description="embedding vectors of observations", apply=_v2),
    ),
)
"""The component that `KnowledgeGraph` migrates on first use."""
