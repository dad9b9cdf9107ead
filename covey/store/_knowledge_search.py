"""Ranked full-text search over observations: SQLite FTS5 BM25, PostgreSQL `ts_rank`.

A query is split into words; an observation matches when it contains any word or a word
starting with it (`prog` finds `program`), and ranks higher the more, and the rarer, words it
has. Only word characters reach the search syntax, so no query can break it.

On SQLite, words found in at least 1/16 of the observations are common: BM25 gives them
little weight, yet scoring them costs time in proportion to how many rows hold them (tens of
milliseconds at 100,000 observations). When the other words alone match enough observations,
those are ranked by the other words only; otherwise every word counts, as in a plain search.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ._knowledge_tables import FTS_TABLE, PG_TEXT_CONFIG, entities, observations

__all__ = [
    "SEARCH_CANDIDATES",
    "entity_scores",
    "query_words",
    "rank_observations",
    "ranked_rows",
]

_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_WORDS = 32
SEARCH_CANDIDATES = 500
"""Most observations and entities a search ranks."""
_COMMON_SHARE = 16
"""A word in at least 1/16 of the observations is common (see the module docstring)."""
_MIN_COMMON = 256
"""In fewer than 16 x 256 observations a word is common only when 256 of them hold it."""


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
    rows = await ranked_rows(conn, dialect, namespace, words, limit)
    return [(int(row.id), str(row.entity), float(row.score)) for row in rows]


async def ranked_rows(
    conn: AsyncConnection, dialect: str, namespace: str, words: list[str], limit: int
) -> list[sa.Row[Any]]:
    """The best-matching observations in a namespace, best first, as whole rows.

    Returns:
        Rows with every column of `observations` and the `score` (higher is better).
    """
    if not words:
        return []
    if dialect == "sqlite":
        return await _rank_sqlite(conn, namespace, words, limit)
    vector = sa.func.to_tsvector(PG_TEXT_CONFIG, observations.c.content)
    query = sa.func.to_tsquery(PG_TEXT_CONFIG, _tsquery(words))
    score = sa.func.ts_rank(vector, query).label("score")
    rows = await conn.execute(
        sa.select(observations, score)
        .where(observations.c.namespace == namespace, vector.bool_op("@@")(query))
        .order_by(score.desc(), observations.c.id)
        .limit(limit)
    )
    return list(rows)


_CAP = (
    f"(SELECT max({_MIN_COMMON}, coalesce(max(id), 0) / {_COMMON_SHARE}) FROM {observations.name})"
)
"""How many rows make a word common; the largest id stands in for the row count (never
smaller, so no rare word is taken for common)."""


async def _rank_sqlite(
    conn: AsyncConnection, namespace: str, words: list[str], limit: int
) -> list[sa.Row[Any]]:
    """BM25 ranking in one statement: count the words, choose them, rank, load the rows.

    Each word's rows are counted up to the common threshold (a bounded scan). Joining every
    match to its observation, to check the namespace, costs more than scoring it, so only
    the best `4 x limit` rows of the whole table are joined: when `limit` of them are in the
    namespace, no other row of the namespace ranks above them. Otherwise (other namespaces
    rank higher, or the rare words found too few) every word is ranked over the namespace.
    The first columns (`seen`, `partial`) come even when nothing matched.
    """
    head = max(limit * 4, 20)
    count = (  # one word is ranked alone anyway: no need to count it
        f"(SELECT count(*) FROM (SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :e{{i}} "
        f"LIMIT {_CAP}))"
        if len(words) > 1
        else "0"
    )
    counts = " UNION ALL ".join(
        f"SELECT :p{i} AS phrase, {count.format(i=i)} AS n" for i in range(len(words))
    )
    params: dict[str, Any] = {"namespace": namespace, "head": head, "limit": limit}
    for i, word in enumerate(words):
        params |= {f"p{i}": f'"{word}"*', f"e{i}": f'"{word}"'}
    rows = (
        await conn.execute(
            sa.text(
                f"WITH counts AS ({counts}), cap(c) AS (SELECT {_CAP}), "
                "chosen(query, partial) AS (SELECT CASE WHEN sum(n < c) BETWEEN 1 AND "
                "count(*) - 1 THEN group_concat(CASE WHEN n < c THEN phrase END, ' OR ') "
                "ELSE group_concat(phrase, ' OR ') END, "
                "sum(n < c) BETWEEN 1 AND count(*) - 1 FROM counts, cap), "
                f"r AS (SELECT rowid AS id, -bm25({FTS_TABLE}) AS score FROM {FTS_TABLE} "
                f"WHERE {FTS_TABLE} MATCH (SELECT query FROM chosen) "
                "ORDER BY score DESC, rowid LIMIT :head), "
                "meta(seen, partial) AS (SELECT (SELECT count(*) FROM r), partial FROM chosen) "
                "SELECT meta.*, x.* FROM meta LEFT JOIN (SELECT o.*, r.score FROM r "
                f"JOIN {observations.name} o ON o.id = r.id WHERE o.namespace = :namespace "
                "ORDER BY r.score DESC, o.id LIMIT :limit) x ON 1 ORDER BY x.score DESC, x.id"
            ),
            params,
        )
    ).all()
    found = [row for row in rows if row.id is not None]  # meta comes even with no match
    if len(found) >= limit or (not rows[0].partial and rows[0].seen < head):
        return found
    return list(
        await conn.execute(
            sa.text(
                f"SELECT o.*, -bm25({FTS_TABLE}) AS score FROM {FTS_TABLE} "
                f"JOIN {observations.name} o ON o.id = {FTS_TABLE}.rowid "
                f"WHERE {FTS_TABLE} MATCH :query AND o.namespace = :namespace "
                "ORDER BY score DESC, o.id LIMIT :limit"
            ),
            {"query": _fts5_query(words), "namespace": namespace, "limit": limit},
        )
    )


async def entity_scores(
    conn: AsyncConnection, dialect: str, namespace: str, words: list[str], whole: str
) -> dict[str, float]:
    """Entity name -> score: best observation match, plus words found in name or type."""
    scores: dict[str, float] = {}
    ranked = await rank_observations(conn, dialect, namespace, words, SEARCH_CANDIDATES)
    for _, name, score in ranked:
        scores[name] = max(scores.get(name, 0.0), score)
    name_col, type_col = sa.func.lower(entities.c.name), sa.func.lower(entities.c.entity_type)
    patterns = [f"%{_escape(word)}%" for word in words]
    found = await conn.execute(
        sa.select(entities.c.name, entities.c.entity_type)
        .where(
            entities.c.namespace == namespace,
            sa.or_(
                *(name_col.like(p, escape="\\") for p in patterns),
                *(type_col.like(p, escape="\\") for p in patterns),
            ),
        )
        .limit(SEARCH_CANDIDATES)
    )
    for name, entity_type in found:
        lowered, kind = str(name).lower(), str(entity_type).lower()
        bonus = sum(2.0 for w in words if w in lowered) + sum(1.0 for w in words if w in kind)
        if lowered == whole:
            bonus += 5.0
        scores[str(name)] = scores.get(str(name), 0.0) + bonus
    return scores


def _escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
