"""A payment graph that the crash test kills with SIGKILL and then resumes.

Each round, `tick` fans out to three `pay` tasks that each charge through `ctx.effect`; each
charge is a row in an outbox database (standing for a payment provider) holding the effect's
idempotency key. The outbox does not deduplicate, so it shows every time a charge ran.

python -m tests.agents.crash_worker URL SCHEMA THREAD OUTBOX
    Print "ready", then run THREAD to the end (or resume it when it has checkpoints) and
    print `{"state": final state, "seconds": how long that took}` as JSON.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Annotated

import anyio
import anyio.to_thread
import pydantic

from covey.agents import END, START, CompiledGraph, Graph, NodeContext, Send, add, append
from covey.store import CheckpointStore, Store

ROUNDS = 10
PAYEES = 3


class Ledger(pydantic.BaseModel):
    round: Annotated[int, add] = 0
    receipts: Annotated[list[str], append] = []


class Outbox:
    """The external system: a row for every charge made, with nothing to deduplicate them.

    A charge made twice shows up as two rows, so the test sees every time an effect ran.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE IF NOT EXISTS charges (key TEXT NOT NULL, body TEXT)")

    def charge(self, key: str, body: str) -> str:
        with sqlite3.connect(self.path, timeout=30) as db:
            db.execute("INSERT INTO charges VALUES (?, ?)", (key, body))
        return body

    def charges(self) -> Counter[str]:
        """How many times each idempotency key was charged."""
        with sqlite3.connect(self.path) as db:
            return Counter(key for (key,) in db.execute("SELECT key FROM charges"))


def payment_graph(store: Store, outbox: Outbox) -> CompiledGraph[Ledger]:
    async def pay(state: Ledger, payee: int, ctx: NodeContext) -> dict[str, object]:
        # Staggered, so that a kill often falls after one charge is journaled and before the
        # step that made it is committed: the case the journal is there for.
        await anyio.sleep(0.01 * (1 + 2 * payee))
        body = f"round {state.round} payee {payee}"
        receipt = await ctx.effect(
            "charge", lambda key: anyio.to_thread.run_sync(outbox.charge, key, body)
        )
        return {"receipts": [receipt]}

    def route(state: Ledger) -> list[Send] | str:
        return [Send("pay", p) for p in range(PAYEES)] if state.round <= ROUNDS else END

    graph = Graph(Ledger)
    graph.add_node("tick", lambda s: {"round": 1})
    graph.add_node("pay", pay)
    graph.add_edge(START, "tick").add_router("tick", route).add_edge("pay", "tick")
    return graph.compile(checkpointer=CheckpointStore(store), step_limit=10 * ROUNDS)


async def finish(store: Store, outbox: Outbox, thread: str) -> Ledger:
    """Resume `thread`, or run it from the start when no step of it was committed."""
    app = payment_graph(store, outbox)
    if await CheckpointStore(store).latest(thread) is None:
        return (await app.run(Ledger(), thread_id=thread)).state
    return (await app.resume(thread)).state


async def main(url: str, schema: str, thread: str, outbox: str) -> None:
    async with Store.from_url(url, schema=schema or None) as store:
        await store.open()
        print("ready", flush=True)
        started = time.perf_counter()
        state = await finish(store, Outbox(Path(outbox)), thread)
        seconds = time.perf_counter() - started
    print(json.dumps({"state": state.model_dump(), "seconds": seconds}), flush=True)


if __name__ == "__main__":
    url, schema, thread, outbox = sys.argv[1:]
    anyio.run(main, url, schema, thread, outbox)
