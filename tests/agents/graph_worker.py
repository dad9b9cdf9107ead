"""A review graph on a durable store, shared by the tests and their second process.

python -m tests.agents.graph_worker URL SCHEMA THREAD ANSWER
    Resume THREAD of the review graph with ANSWER and print the final state as JSON.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import anyio
import pydantic

from covey.agents import START, Checkpointer, CompiledGraph, Graph, append
from covey.store import CheckpointStore, Store


class Review(pydantic.BaseModel):
    log: Annotated[list[str], append] = []
    draft: str = ""


def review_graph(checkpoints: CheckpointStore) -> CompiledGraph[Review]:
    """draft -> review (asks a person) -> publish, checkpointed in `checkpoints`."""
    return review_graph_on(checkpoints)


def review_graph_on(checkpointer: Checkpointer | None) -> CompiledGraph[Review]:
    """The review graph on any checkpointer (or none)."""
    graph = Graph(Review)
    graph.add_node("write", lambda s: {"draft": "v1", "log": ["wrote v1"]})
    graph.add_human(
        "review",
        ask=lambda s: f"Publish {s.draft!r}?",
        apply=lambda s, answer: {"log": [f"review: {answer}"]},
    )
    graph.add_node("publish", lambda s: {"log": [f"published {s.draft}"]})
    graph.add_edge(START, "write").add_edge("write", "review").add_edge("review", "publish")
    return graph.compile(checkpointer=checkpointer)


async def main(url: str, schema: str, thread: str, answer: str) -> None:
    async with Store.from_url(url, schema=schema or None) as store:
        result = await review_graph(CheckpointStore(store)).resume(thread, answer)
    print(json.dumps({"status": result.status, "state": result.state.model_dump()}))


if __name__ == "__main__":
    url, schema, thread, answer = sys.argv[1:]
    anyio.run(main, url, schema, thread, answer)
