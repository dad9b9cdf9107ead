"""Long-term memory on SQLite: recall time (median, p95) at 10,000 and 100,000 memories, and
the write rate.

Run: `.venv/bin/python benchmarks/memory.py [--sizes 10000 100000] [--queries 200]`

Memories are sentences from a small vocabulary (so every query matches many of them, the
hard case for ranking); recall is full-text (FTS5 BM25) through `LongTermMemory.recall`.
Prints figures; asserts nothing. Aim: median recall under 5 ms at 100,000.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import anyio
import sqlalchemy as sa

from covey.store import LongTermMemory, Store
from covey.store._knowledge_tables import MEMORY, entities, observations

WORDS = (
    "ada alan grace linus ken barbara margaret tim guido dennis bjarne james "
    "likes prefers uses wrote built designed tested shipped reviewed fixed "
    "python rust c lisp haskell kernel compiler database network editor shell "
    "tea coffee chess music hiking cycling reading painting cooking gardening "
    "monday tuesday morning evening quickly carefully often rarely"
).split()


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randrange(6, 14)))


async def fill(store: Store, count: int, rng: random.Random) -> float:
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
                "content": f"{sentence(rng)} #{i}",
                "content_hash": f"{i:064d}",
                "created_at": now,
                "updated_at": now,
            }
            for i in range(start, min(start + batch, count))
        ]
        async with store.write() as conn:
            await conn.execute(sa.insert(observations), rows)
    return time.perf_counter() - started


async def recall_times(memory: LongTermMemory, queries: int, rng: random.Random) -> list[float]:
    times: list[float] = []
    for _ in range(queries):
        query = " ".join(rng.choice(WORDS) for _ in range(3))
        started = time.perf_counter()
        await memory.recall(query, limit=5)
        times.append((time.perf_counter() - started) * 1000)
    return times


async def one_by_one(memory: LongTermMemory, count: int, rng: random.Random) -> float:
    """Memories per second through `remember()` (one transaction each)."""
    started = time.perf_counter()
    for i in range(count):
        await memory.remember(f"{sentence(rng)} single {i}")
    return count / (time.perf_counter() - started)


async def main(args: argparse.Namespace) -> None:
    rng = random.Random(7)
    print(f"{'memories':>9}  {'bulk insert/s':>13}  {'recall p50 ms':>13}  {'recall p95 ms':>13}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            async with Store(f"sqlite:///{Path(tmp) / 'memory.db'}") as store:
                seconds = await fill(store, size, rng)
                memory = LongTermMemory(store, "bench")
                await recall_times(memory, 10, rng)  # warm the page cache
                times = sorted(await recall_times(memory, args.queries, rng))
                p50 = statistics.median(times)
                p95 = times[int(len(times) * 0.95) - 1]
                print(f"{size:>9}  {size / seconds:>13.0f}  {p50:>13.2f}  {p95:>13.2f}")
                if size == args.sizes[-1]:
                    rate = await one_by_one(memory, args.writes, rng)
    print(f"remember() one at a time: {rate:.0f} memories/s (one transaction each)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--writes", type=int, default=300)
    anyio.run(main, parser.parse_args())
