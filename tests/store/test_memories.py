"""Long-term memory on SQLite and PostgreSQL: ranked recall, vectors, namespaces, sharing."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import IO

import pytest

from covey import ModelClient, ModelConfig, UsageError
from covey.agents import Agent
from covey.models import ToolCall
from covey.store import KnowledgeGraph, LongTermMemory, Store
from covey.store._memories import (  # pyright: ignore[reportPrivateUsage]
    _nearest_numpy,  # pyright: ignore[reportPrivateUsage]
    _nearest_python,  # pyright: ignore[reportPrivateUsage]
    _pack,  # pyright: ignore[reportPrivateUsage]
)
from covey.testing import ChatRequest, Reply, ScriptedModelServer

from ..servers.conftest import errlog, stdio_client_for
from .conftest import Backend, backend, store

__all__ = ["backend", "errlog", "store"]  # fixtures, imported for pytest

UNRELATED = [
    "The office coffee machine was repaired on Tuesday",
    "Quarterly revenue grew by four percent",
    "The team offsite is planned for the mountains",
    "Printer paper is stored in the second cabinet",
    "Parking passes renew every January",
    "The wifi password changes monthly",
    "Lunch orders close at eleven",
    "The fire drill happens each spring",
]
TOPIC = "Ada prefers answers shorter than three sentences"


async def test_recall_ranks_the_memory_on_the_topic_first(store: Store) -> None:
    memory = LongTermMemory(store, "agent:librarian")
    for text in UNRELATED:
        await memory.remember(text)
    topic = await memory.remember(TOPIC, about="Ada", metadata={"source": "chat"})
    found = await memory.recall("How long should answers for Ada be?", limit=3)
    assert found[0].id == topic.id and found[0].about == "Ada"
    assert found[0].metadata == {"source": "chat"} and found[0].score > 0
    assert all(m.text in UNRELATED for m in found[1:])


async def test_a_word_in_most_memories_neither_crowds_out_nor_hides_the_rare_ones(
    store: Store,
) -> None:
    memory = LongTermMemory(store, "team")
    billing = [
        await memory.remember("The billing service deploy status is green"),
        await memory.remember("Billing status moved to the new cluster"),
    ]
    filler = [f"Status report {i} of the weekly status meeting is filed" for i in range(400)]
    await memory.graph.add_observations({"notes": filler})
    ids = {m.id for m in billing}
    assert {m.id for m in await memory.recall("billing status", limit=2)} == ids
    found = await memory.recall("billing status", limit=5)  # the rare word alone is too few
    assert {m.id for m in found[:2]} == ids and all(m.text in filler for m in found[2:])
    assert len(found) == 5
    assert len(await memory.recall("unheardof status", limit=3)) == 3  # rare word: no match


async def test_recall_finds_memories_that_rank_below_another_namespaces_matches(
    store: Store,
) -> None:
    theirs, mine = LongTermMemory(store, "user:bob"), LongTermMemory(store, "user:ada")
    await theirs.remember("kiwi")
    await theirs.graph.add_observations({"notes": [f"kiwi kiwi {i}" for i in range(40)]})
    kept = await mine.remember("Ada once bought a kiwi at the long market by the old harbour")
    assert [m.id for m in await mine.recall("kiwi", limit=1)] == [kept.id]
    assert len(await theirs.recall("kiwi", limit=50)) == 41


async def test_vectors_rank_too_and_fuse_with_full_text(store: Store) -> None:
    async with ScriptedModelServer() as server:
        config = ModelConfig(base_url=server.base_url, model="embedder", max_retries=0)
        async with ModelClient(config) as model:
            memory = LongTermMemory(store, "team", embedder=model, embedding_model="scripted")
            for text in UNRELATED:
                await memory.remember(text)
            topic = await memory.remember(TOPIC, about="Ada")
            by_vector = await memory.recall("Ada prefers short answers", mode="vector", limit=3)
            hybrid = await memory.recall("Ada prefers short answers", limit=3)
            text_only = LongTermMemory(store, "team")
            with pytest.raises(UsageError, match="needs LongTermMemory"):
                await text_only.recall("x", mode="vector")
    assert by_vector[0].id == topic.id
    assert hybrid[0].id == topic.id and hybrid[0].score > by_vector[0].score / 2


POINTS = {"north": (0.0, 1.0), "northeast": (0.6, 0.8), "east": (1.0, 0.0)}
POINTS |= {"north-northeast": (0.2, 0.9), "south": (0.0, -1.0), "nowhere": (0.0, 0.0)}


class Directions:
    """Embeds a text ending in a compass direction as that direction."""

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [list(POINTS[text.split()[-1]]) for text in texts]


def test_vector_similarity_in_numpy_and_in_python_gives_the_same_order() -> None:
    rng = random.Random(5)
    vectors = [[rng.gauss(0, 1) for _ in range(16)] for _ in range(300)]
    vectors[7] = [0.0] * 16  # no direction: never similar
    vectors[9] = list(vectors[3])  # a tie, broken by id
    query = [1000 * x + rng.gauss(0, 10) for x in vectors[3]]  # any length: cosines
    rows = [(i + 1, _pack(v)) for i, v in enumerate(vectors)]
    pytest.importorskip("numpy")
    for pool, some in ((40, rows), (40, rows[:12]), (1, rows), (300, rows)):
        in_python = _nearest_python(query, some, pool)
        assert _nearest_numpy(query, some, pool) == in_python
        assert in_python[:2] == [4, 10] or pool == 1
        assert 8 not in in_python and len(in_python) <= pool
    assert _nearest_numpy([1.0, 0.0], rows, 5) is None  # other lengths: the Python path
    assert _nearest_numpy(query, [], 5) == [] == _nearest_python(query, [], 5)


async def test_vector_recall_orders_by_cosine_and_leaves_out_unrelated(store: Store) -> None:
    memory = LongTermMemory(store, "compass", embedder=Directions(), embedding_model="compass")
    for direction in ["south", "east", "northeast", "north", "north-northeast", "nowhere"]:
        await memory.remember(f"The road goes {direction}")
    other_model = LongTermMemory(store, "compass", embedder=Directions(), embedding_model="v2")
    found = await memory.recall("Heading north", mode="vector", limit=5)
    assert [m.text.split()[-1] for m in found] == ["north", "north-northeast", "northeast"]
    assert await other_model.recall("Heading north", mode="vector") == []  # not comparable
    assert await memory.recall("Heading nowhere", mode="vector") == []


async def test_namespaces_isolate_and_update_and_forget_work(store: Store) -> None:
    mine, theirs = LongTermMemory(store, "user:ada"), LongTermMemory(store, "user:bob")
    kept = await mine.remember("Ada's locker code is 4471")
    again = await mine.remember("Ada's locker code is 4471", metadata={"checked": True})
    assert again.id == kept.id and again.metadata == {"checked": True}  # kept once
    assert await theirs.recall("locker code") == []
    assert await theirs.forget(kept.id) is False  # not theirs to forget
    changed = await mine.update(kept.id, text="Ada's locker code is 9090")
    assert [m.text for m in await mine.recall("locker")] == ["Ada's locker code is 9090"]
    assert changed.updated_at >= kept.updated_at
    assert await mine.forget(kept.id) is True
    assert await mine.recall("locker") == []
    with pytest.raises(UsageError, match="No memory"):
        await mine.update(kept.id, text="x")


def keeper(request: ChatRequest) -> Reply:
    """Remembers what it is told with `remember`, looks up what it is asked with `recall`."""
    if request.last_tool_result is not None:
        return Reply(text=f"From memory: {request.last_tool_result}")
    if request.last_user_text.startswith("Note:"):
        fact = {"fact": "The launch window opens on 14 March", "about": "Launch"}
        return Reply(tool_calls=[ToolCall(id="r", name="remember", arguments=fact)])
    query = {"query": "what Ada likes to drink"}
    return Reply(tool_calls=[ToolCall(id="q", name="recall", arguments=query)])


async def test_what_an_agent_remembers_the_memory_server_shows_and_the_reverse(
    backend: Backend, errlog: IO[str]
) -> None:
    args = ["--db", backend.url, *(["--schema", backend.schema] if backend.schema else [])]
    ada = {"name": "Ada", "entityType": "person", "observations": ["likes tea"]}
    more = {"entityName": "Ada", "contents": ["likes to drink it without sugar"]}
    async with backend.store() as opened, ScriptedModelServer(policy=keeper) as server:
        config = ModelConfig(base_url=server.base_url, model="scripted", max_retries=0)
        async with ModelClient(config) as model:
            agent = Agent("keeper", model, "Keep facts.", memory=LongTermMemory(opened))
            await agent.run("Note: the launch window opens on 14 March.")
            server_process = stdio_client_for("covey.servers.memory", *args, errlog=errlog)
            async with server_process as client:
                found = await client.call_tool("search_nodes", {"query": "launch window"})
                await client.call_tool("create_entities", {"entities": [ada]})
                await client.call_tool("add_observations", {"observations": [more]})
            answer = await agent.run("What does Ada like to drink?")
        graph = await KnowledgeGraph(opened).open(["Launch"])
    assert found.structured_content is not None
    assert found.structured_content["entities"][0]["observations"] == [
        "The launch window opens on 14 March"
    ]
    assert graph.entities[0].entity_type == "topic"
    recalled = server.requests[-1].last_tool_result  # what the model saw next
    assert recalled is not None
    assert "- likes tea (about Ada)" in recalled
    assert "- likes to drink it without sugar (about Ada)" in recalled
    assert answer.output == f"From memory: {recalled}"
