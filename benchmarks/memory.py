"""Long-term memory on SQLite: recall time (median, p95) at 10,000 and 100,000 memories, and
the write rate; vector recall time at 10,000.

Run: `.venv/bin/python benchmarks/memory.py [--sizes 10000 100000] [--queries 200]`

Memories are sentences of made-up words whose frequencies follow Zipf's law, like words in
real text (`--vocabulary`: fewer words mean more matches per query, the hard case for BM25);
recall is full-text (FTS5 BM25) through `LongTermMemory.recall`. Vector recall
(`mode="vector"`, `--vector-sizes`) compares the query with every stored vector of the
namespace (`--dimensions` floats, random unit vectors; the query is embedded in process, so
the figure is the store's and the similarity loop's, not an embedding server's).
Prints figures; asserts nothing. Aim: median recall under 5 ms at 100,000.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import anyio
import sqlalchemy as sa

from covey.store import LongTermMemory, Store
from covey.store._knowledge_tables import MEMORY, entities, observations, vectors
from covey.store._memories import _pack  # pyright: ignore[reportPrivateUsage]

SYLLABLES = "ka lo mi nu pe ra si to vu wa be co di fa go hu ji ke lu ma no pi qu re".split()


def vocabulary(size: int, rng: random.Random) -> list[str]:
    """`size` distinct made-up words (3-4 syllables)."""
    words: dict[str, None] = {}
    while len(words) < size:
        words["".join(rng.choice(SYLLABLES) for _ in range(rng.randrange(3, 5)))] = None
    return list(words)


class Corpus:
    """Sentences whose words follow Zipf's law, as words in real text do."""

    def __init__(self, size: int, rng: random.Random) -> None:
        self.words = vocabulary(size, rng)
        self.weights = [1 / rank for rank in range(1, size + 1)]
        self.rng = rng

    def sentence(self) -> str:
        return " ".join(self.rng.choices(self.words, self.weights, k=self.rng.randrange(6, 14)))

    def query(self) -> str:
        return " ".join(self.rng.choices(self.words, self.weights, k=3))


async def fill(store: Store, count: int, corpus: Corpus) -> float:
    """Insert `count` memories in batches; returns seconds spent."""
    await store.migrate(MEMORY)
    now = time.time()
    started = time.perf_counter()
    async with store.write() as conn:
        await conn.execute(
            sa.insert(entities).values(
                namespace="bench", name="notes", entity_type="topic", created_at=now, updated_at=now
            )
        )
    batch = 2000
    for start in range(0, count, batch):
        rows = [
            {
                "namespace": "bench",
                "entity": "notes",
                "content": f"{corpus.sentence()} #{i}",
                "content_hash": f"{i:064d}",
                "created_at": now,
                "updated_at": now,
            }
            for i in range(start, min(start + batch, count))
        ]
        async with store.write() as conn:
            await conn.execute(sa.insert(observations), rows)
    return time.perf_counter() - started


async def recall_times(memory: LongTermMemory, queries: int, corpus: Corpus) -> list[float]:
    times: list[float] = []
    for _ in range(queries):
        query = corpus.query()
        started = time.perf_counter()
        await memory.recall(query, limit=5)
        times.append((time.perf_counter() - started) * 1000)
    return times


async def one_by_one(memory: LongTermMemory, count: int, corpus: Corpus) -> float:
    """Memories per second through `remember()` (one transaction each)."""
    started = time.perf_counter()
    for i in range(count):
        await memory.remember(f"{corpus.sentence()} single {i}")
    return count / (time.perf_counter() - started)


class RandomEmbedder:
    """Embeds each text as a random vector (the benchmark measures search, not embedding)."""

    def __init__(self, dimensions: int, rng: random.Random) -> None:
        self.dimensions, self.rng = dimensions, rng

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [[self.rng.gauss(0, 1) for _ in range(self.dimensions)] for _ in texts]


async def fill_vectors(store: Store, dimensions: int, rng: random.Random) -> None:
    """A random vector for every memory of the `bench` namespace."""
    async with store.read() as conn:
        ids = (await conn.scalars(sa.select(observations.c.id))).all()
    for start in range(0, len(ids), 2000):
        rows = [
            {
                "observation_id": i,
                "namespace": "bench",
                "model": "bench",
                "vector": _pack([rng.gauss(0, 1) for _ in range(dimensions)]),
            }
            for i in ids[start : start + 2000]
        ]
        async with store.write() as conn:
            await conn.execute(sa.insert(vectors), rows)


async def vector_figures(args: argparse.Namespace, corpus: Corpus) -> None:
    rng = random.Random(11)
    print(f"vector recall (mode='vector'), {args.dimensions} dimensions")
    print(f"{'memories':>9}  {'recall p50 ms':>13}  {'recall p95 ms':>13}")
    for size in args.vector_sizes:
        with tempfile.TemporaryDirectory() as tmp:
            async with Store(f"sqlite:///{Path(tmp) / 'memory.db'}") as store:
                await fill(store, size, corpus)
                await fill_vectors(store, args.dimensions, rng)
                embedder = RandomEmbedder(args.dimensions, rng)
                memory = LongTermMemory(store, "bench", embedder=embedder, embedding_model="bench")
                times: list[float] = []
                for _ in range(args.vector_queries + 3):
                    started = time.perf_counter()
                    await memory.recall("anything", limit=5, mode="vector")
                    times.append((time.perf_counter() - started) * 1000)
                times = sorted(times[3:])  # the first ones warm the page cache
                p95 = times[max(int(len(times) * 0.95) - 1, 0)]
                print(f"{size:>9}  {statistics.median(times):>13.2f}  {p95:>13.2f}")


async def main(args: argparse.Namespace) -> None:
    corpus = Corpus(args.vocabulary, random.Random(7))
    print(f"vocabulary {args.vocabulary} words (Zipf), queries of 3 words")
    print(f"{'memories':>9}  {'bulk insert/s':>13}  {'recall p50 ms':>13}  {'recall p95 ms':>13}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            async with Store(f"sqlite:///{Path(tmp) / 'memory.db'}") as store:
                seconds = await fill(store, size, corpus)
                memory = LongTermMemory(store, "bench")
                await recall_times(memory, 10, corpus)  # warm the page cache
                times = sorted(await recall_times(memory, args.queries, corpus))
                p50 = statistics.median(times)
                p95 = times[int(len(times) * 0.95) - 1]
                print(f"{size:>9}  {size / seconds:>13.0f}  {p50:>13.2f}  {p95:>13.2f}")
                if size == args.sizes[-1]:
                    rate = await one_by_one(memory, args.writes, corpus)
    print(f"remember() one at a time: {rate:.0f} memories/s (one transaction each)")
    if args.vector_sizes:
        await vector_figures(args, corpus)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--vocabulary", type=int, default=5000, help="distinct words")
    parser.add_argument("--vector-sizes", type=int, nargs="*", default=[10_000])
    parser.add_argument("--vector-queries", type=int, default=40)
    parser.add_argument("--dimensions", type=int, default=384, help="floats per vector")
    anyio.run(main, parser.parse_args())
