"""Long-term memory: facts an agent keeps across runs, per namespace, with ranked recall.

A memory is an observation of the knowledge graph (about an entity, `notes` by default),
so the bundled memory MCP server sees what agents remember and the reverse. Recall ranks
by full-text relevance (SQLite FTS5 BM25, PostgreSQL `ts_rank`) and, with an embedder (any
OpenAI-compatible `/v1/embeddings`), by vector similarity too, the two rankings fused.
"""

from __future__ import annotations

import array
import hashlib
import heapq
import json
import math
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from operator import mul
from typing import Any, Literal, Protocol

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from .._errors import UsageError
from ..tracing._genai import span
from ._engine import Store
from ._knowledge import KnowledgeGraph
from ._knowledge_models import MAX_NAME, MAX_OBSERVATION
from ._knowledge_search import query_words, ranked_rows
from ._knowledge_tables import MEMORY, entities, observations, vectors

__all__ = ["Embedder", "LongTermMemory", "Memory", "RecallMode"]

RecallMode = Literal["hybrid", "text", "vector"]
"""How `recall` ranks: both rankings fused, full text only, or vectors only."""

_FUSION_K = 60
"""Reciprocal rank fusion constant: how much the lower ranks still count."""


class Embedder(Protocol):
    """Turns texts into vectors, e.g. `covey.models.ModelClient` on an embedding model."""

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order."""
        ...  # protocol member


class Memory(BaseModel):
    """One remembered fact."""

    id: int
    text: str
    about: str
    """The entity it is about (`notes` when none was named)."""
    metadata: dict[str, Any] = Field(default_factory=dict[str, Any])
    created_at: datetime
    updated_at: datetime
    score: float = 0.0
    """How well it matched the recall query (higher is better; 0 outside recall)."""


def _pack(vector: Sequence[float]) -> bytes:
    packed = array.array("f", vector)
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tobytes()


def _unpack(blob: bytes) -> Sequence[float]:
    if sys.byteorder == "little":
        return memoryview(blob).cast("f")  # read in place: no copy, no per-float objects
    unpacked = array.array("f")
    unpacked.frombytes(blob)
    unpacked.byteswap()
    return unpacked


def _similarities(
    query: Sequence[float], rows: Sequence[tuple[int, bytes]]
) -> list[tuple[float, int]]:
    """Cosine similarity of `query` to each packed vector, as (similarity, id) pairs.

    Every vector of the namespace is compared on each recall, so the loop stays tight:
    the query is normalised once, each vector is read where it lies, and the products are
    summed in C (`map`, `math.hypot`) rather than in Python bytecode.
    """
    length = math.hypot(*query)
    if not length:
        return []
    unit = array.array("d", [x / length for x in query])
    scored: list[tuple[float, int]] = []
    for memory_id, blob in rows:
        vector = _unpack(blob)
        norm = math.hypot(*vector)
        scored.append((sum(map(mul, unit, vector)) / norm if norm else 0.0, memory_id))
    return scored


def _nearest_python(
    query: Sequence[float], rows: Sequence[tuple[int, bytes]], pool: int
) -> list[int]:
    """The ids of the `pool` vectors most similar to `query` (and similar at all), best first."""
    best = heapq.nsmallest(pool, _similarities(query, rows), key=lambda p: (-p[0], p[1]))
    return [memory_id for score, memory_id in best if score > 0]


def _nearest_numpy(
    query: Sequence[float], rows: Sequence[tuple[int, bytes]], pool: int
) -> list[int] | None:
    """As `_nearest_python`, in one matrix-vector product; None without numpy.

    Also None when the vectors differ in length from the query: the pure-Python path then
    compares what it can, as before.
    """
    try:
        import numpy as np
    except ImportError:  # covey[local] brings numpy; without it the loop does the work
        return None
    size = len(query) * 4
    if not rows or any(len(blob) != size for _, blob in rows):
        return None if rows else []
    length = math.hypot(*query)
    if not length:
        return []
    # float32 finds the candidates fast; float64 then scores them as the Python path does,
    # so both give one order (float32 errs by ~1e-6, far inside the margin kept).
    matrix = np.frombuffer(b"".join(blob for _, blob in rows), dtype="<f4")
    matrix = matrix.reshape(len(rows), len(query))
    ids = np.fromiter((memory_id for memory_id, _ in rows), dtype=np.int64, count=len(rows))
    unit = np.asarray(query, dtype=np.float64) / length
    if len(rows) > pool:
        norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))
        rough = (matrix @ unit.astype(np.float32)) / np.maximum(norms, 1e-30)
        edge = np.partition(rough, len(rows) - pool)[len(rows) - pool]
        keep = rough >= edge - 1e-3
        matrix, ids = matrix[keep], ids[keep]
    exact = matrix.astype(np.float64)
    norms = np.linalg.norm(exact, axis=1)
    dots = exact @ unit
    scores = np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)
    order = np.lexsort((ids, -scores))[:pool]
    return [int(ids[i]) for i in order if scores[i] > 0]


def _fused(*rankings: Sequence[int]) -> dict[int, float]:
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, memory_id in enumerate(ranking):
            scores[memory_id] = scores.get(memory_id, 0.0) + 1.0 / (_FUSION_K + rank + 1)
    return scores


class LongTermMemory:
    """Remember, recall, update and forget facts in a namespace of the store.

    Example:
        ```python
        memory = LongTermMemory(store, namespace="agent:librarian", embedder=embedding_model)
        await memory.remember("Ada prefers short answers", about="Ada")
        found = await memory.recall("how long should answers to Ada be?")
        ```
    """

    def __init__(
        self,
        store: Store,
        namespace: str = "default",
        *,
        embedder: Embedder | None = None,
        embedding_model: str = "default",
    ) -> None:
        """Use `store`'s memory tables within `namespace`; embed with `embedder` if given."""
        self.graph = KnowledgeGraph(store, namespace)
        """The knowledge graph the memories live in."""
        self.store = store
        self.namespace = self.graph.namespace
        self.embedder = embedder
        self.embedding_model = embedding_model
        """Names the vectors' model: vectors of another model are not compared."""

    def _insert(self, table: sa.Table) -> Any:
        return (postgresql if self.store.dialect == "postgresql" else sqlite).insert(table)

    async def remember(
        self, text: str, *, about: str = "notes", metadata: Mapping[str, Any] | None = None
    ) -> Memory:
        """Keep a fact; the same fact about the same entity is kept once (its metadata updated).

        Raises:
            UsageError: the text or entity name is empty or too long, or metadata is not JSON.
        """
        content, name = (
            _checked(text, MAX_OBSERVATION, "A memory"),
            _checked(about, MAX_NAME, "about"),
        )
        meta = _json(metadata)
        vector = (await self.embedder.embed([content]))[0] if self.embedder else None
        await self.store.migrate(MEMORY)
        now = time.time()
        digest = hashlib.sha256(content.encode()).hexdigest()
        async with self.store.write() as conn:
            await conn.execute(
                self._insert(entities)
                .values(namespace=self.namespace, name=name, entity_type="topic")
                .values(created_at=now, updated_at=now)
                .on_conflict_do_nothing()
            )
            row = {"namespace": self.namespace, "entity": name, "content": content}
            row |= {"content_hash": digest, "meta": meta, "created_at": now, "updated_at": now}
            statement = self._insert(observations).values(**row)
            await conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["namespace", "entity", "content_hash"],
                    set_={"meta": meta, "updated_at": now},
                )
            )
            memory_id = await conn.scalar(
                sa.select(observations.c.id).where(
                    observations.c.namespace == self.namespace,
                    observations.c.entity == name,
                    observations.c.content_hash == digest,
                )
            )
            assert memory_id is not None
            if vector is not None:
                await self._store_vector(conn, int(memory_id), vector)
        found = await self.get(int(memory_id))
        assert found is not None
        return found

    async def _store_vector(
        self, conn: AsyncConnection, memory_id: int, vector: Sequence[float]
    ) -> None:
        values = {
            "namespace": self.namespace,
            "model": self.embedding_model,
            "vector": _pack(vector),
        }
        statement = self._insert(vectors).values(observation_id=memory_id, **values)
        await conn.execute(
            statement.on_conflict_do_update(index_elements=["observation_id"], set_=values)
        )

    async def get(self, memory_id: int) -> Memory | None:
        """The memory with this id in the namespace, or None."""
        await self.store.migrate(MEMORY)
        async with self.store.read() as conn:
            found = await self._load(conn, [memory_id])
        return found.get(memory_id)

    async def _load(self, conn: AsyncConnection, ids: Sequence[int]) -> dict[int, Memory]:
        # By primary key alone: with the namespace in the WHERE clause SQLite walks the
        # namespace's index instead, every row of it (11 ms at 100,000 memories).
        rows = await conn.execute(sa.select(observations).where(observations.c.id.in_(list(ids))))
        return {int(row.id): _memory(row) for row in rows if row.namespace == self.namespace}

    async def recall(
        self, query: str, *, limit: int = 5, mode: RecallMode = "hybrid"
    ) -> list[Memory]:
        """The memories that best match `query`, best first.

        Args:
            query: What to look for.
            limit: At most this many.
            mode: `hybrid` fuses full-text and vector rankings (vectors only with an
                embedder), `text` uses full text only, `vector` vectors only.

        Raises:
            UsageError: bad limit, or `vector` mode without an embedder.
        """
        if limit < 1:
            raise UsageError(f"recall() limit must be at least 1, got {limit}.")
        if mode == "vector" and self.embedder is None:
            raise UsageError("recall(mode='vector') needs LongTermMemory(embedder=...).")
        attributes = {"covey.memory.namespace": self.namespace, "covey.memory.mode": mode}
        with span(f"recall {self.namespace}", attributes) as recalled:
            found = await self._recall(query, limit, mode)
            if recalled is not None:
                recalled.set_attribute("covey.memory.found", len(found))
            return found

    async def _recall(self, query: str, limit: int, mode: RecallMode) -> list[Memory]:
        await self.store.migrate(MEMORY)
        pool = max(limit * 4, 20)
        use_vectors = self.embedder is not None and mode != "text"
        query_vector = (
            (await self.embedder.embed([query]))[0] if self.embedder and use_vectors else None
        )
        async with self.store.read() as conn:
            rankings: list[list[int]] = []
            rows: dict[int, sa.Row[Any]] = {}
            if mode != "vector":
                ranked = await ranked_rows(
                    conn, self.store.dialect, self.namespace, query_words(query), pool
                )
                rows = {int(row.id): row for row in ranked}
                rankings.append(list(rows))
            if query_vector is not None:
                rankings.append(await self._nearest(conn, query_vector, pool))
            scores = _fused(*rankings)
            best = sorted(scores, key=lambda i: (-scores[i], i))[:limit]
            found = {i: _memory(rows[i]) for i in best if i in rows}
            missing = [i for i in best if i not in rows]
            if missing:
                found |= await self._load(conn, missing)
        return [found[i].model_copy(update={"score": scores[i]}) for i in best if i in found]

    async def _nearest(self, conn: AsyncConnection, query: Sequence[float], pool: int) -> list[int]:
        rows = await conn.execute(
            sa.select(vectors.c.observation_id, vectors.c.vector).where(
                vectors.c.namespace == self.namespace, vectors.c.model == self.embedding_model
            )
        )
        packed = [(int(i), bytes(v)) for i, v in rows.all()]
        found = _nearest_numpy(query, packed, pool)
        return _nearest_python(query, packed, pool) if found is None else found

    async def update(
        self, memory_id: int, *, text: str | None = None, metadata: Mapping[str, Any] | None = None
    ) -> Memory:
        """Change a memory's text or metadata.

        Raises:
            UsageError: no memory has this id in the namespace, or the new text is invalid.
        """
        if await self.get(memory_id) is None:
            raise UsageError(f"No memory {memory_id} in namespace {self.namespace!r} to update.")
        values: dict[str, Any] = {"updated_at": time.time()}
        vector = None
        if text is not None:
            content = _checked(text, MAX_OBSERVATION, "A memory")
            values |= {
                "content": content,
                "content_hash": hashlib.sha256(content.encode()).hexdigest(),
            }
            vector = (await self.embedder.embed([content]))[0] if self.embedder else None
        if metadata is not None:
            values["meta"] = _json(metadata)
        async with self.store.write() as conn:
            await conn.execute(
                observations.update()
                .where(observations.c.namespace == self.namespace, observations.c.id == memory_id)
                .values(**values)
            )
            if vector is not None:
                await self._store_vector(conn, memory_id, vector)
        updated = await self.get(memory_id)
        assert updated is not None
        return updated

    async def forget(self, memory_id: int) -> bool:
        """Delete a memory; False when there was none with this id."""
        await self.store.migrate(MEMORY)
        async with self.store.write() as conn:
            result = await conn.execute(
                observations.delete().where(
                    observations.c.namespace == self.namespace, observations.c.id == memory_id
                )
            )
        return bool(result.rowcount)


def _memory(row: sa.Row[Any]) -> Memory:
    return Memory(
        id=int(row.id),
        text=str(row.content),
        about=str(row.entity),
        metadata=json.loads(row.meta or "{}"),
        created_at=datetime.fromtimestamp(row.created_at, UTC),
        updated_at=datetime.fromtimestamp(row.updated_at, UTC),
    )


def _checked(value: str, limit: int, what: str) -> str:
    text = value.strip()
    if not text or len(text) > limit or "\x00" in text:
        raise UsageError(
            f"{what} must be 1 to {limit} visible characters without NUL, got {len(text)}."
        )
    return text


def _json(metadata: Mapping[str, Any] | None) -> str:
    try:
        return json.dumps(dict(metadata or {}), sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"Memory metadata must be JSON data: {exc}.") from None
