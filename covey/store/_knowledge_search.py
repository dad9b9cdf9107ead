"""Ranked full-text search over observations: SQLite FTS5 BM25, PostgreSQL `ts_rank`.

A query is split into words; an observation matches when it contains any word or a word
starting with it (`prog` finds `program`), and ranks higher the more, and the rarer, words it
has. Only word characters reach the search syntax, so no query can break it.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ._knowledge_tables import FTS_TABLE, PG_TEXT_CONFIG, observations

__all__ = ["query_words", "rank_observations"]

_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_WORDS = 32


_STOP_WORDS = frozenset(
    "a about after all also an and any are as at be been but by can could did do does for "
    "from had has have he her his how i if in into is it its just me more most my no not "
    "of on or our out she should so some than that the their them then there these they "
    "this those to too up us was we were what when where which who whom why will with "
    "would you your".split()
)
"""Words that match nearly every memory: left out of queries (PostgreSQL drops them too)."""


def query_words(query: str) -> list[str]:
    """The distinct lower-case words of a query, in order, at most 32 of them.

    Stop words (`the`, `should`, ...) are left out unless the query has nothing else: they
    match almost every text, so they add time and no ranking signal.
    """
    seen: dict[str, None] = {}
    for word in _WORD.findall(query.lower()):
        seen.setdefault(word, None)
    words = list(seen)
    content = [word for word in words if word not in _STOP_WORDS]
    return (content or words)[:_MAX_WORDS]


def _fts5_query(words: list[str]) -> str:
    return " OR ".join(f'"{word}"*' for word in words)


def _tsquery(words: list[str]) -> str:
    return " | ".join(f"'{word}':*" for word in words)


async def rank_observations(
    conn: AsyncConnection, dialect: str, namespace: str, words: list[str], limit: int
) -> list[tuple[int, str, float]]:
    """The best-matching observations in a namespace, best first.

    Returns:
        `(observation id, entity name, score)` with higher scores for better matches.
    """
    if not words:
        return []
    rows: Any
    if dialect == "sqlite":
        rows = await conn.execute(
            sa.text(
                f"SELECT o.id, o.entity, -bm25({FTS_TABLE}) AS score FROM {FTS_TABLE} "
                f"JOIN covey_memory_observations o ON o.id = {FTS_TABLE}.rowid "
                f"WHERE {FTS_TABLE} MATCH :query AND o.namespace = :namespace "
                "ORDER BY score DESC, o.id LIMIT :limit"
            ),
            {"query": _fts5_query(words), "namespace": namespace, "limit": limit},
        )
    else:
        vector = sa.func.to_tsvector(PG_TEXT_CONFIG, observations.c.content)
        query = sa.func.to_tsquery(PG_TEXT_CONFIG, _tsquery(words))
        score = sa.func.ts_rank(vector, query).label("score")
        rows = await conn.execute(
            sa.select(observations.c.id, observations.c.entity, score)
            .where(observations.c.namespace == namespace, vector.bool_op("@@")(query))
            .order_by(score.desc(), observations.c.id)
            .limit(limit)
        )
    return [(int(row[0]), str(row[1]), float(row[2])) for row in rows]
