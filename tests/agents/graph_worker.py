"""Graphs on a durable store, shared by the tests and their second process.

python -m tests.agents.graph_worker URL SCHEMA THREAD ANSWER
    Resume THREAD of the review graph with ANSWER and print the final state as JSON.
python -m tests.agents.graph_worker errand URL SCHEMA THREAD ANSWER MODEL_URL CALLS_FILE
    Resume THREAD of the errand graph (an agent whose mails need approval, on the scripted
    model at MODEL_URL, its tools writing each call to CALLS_FILE) and print the result.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import anyio
import pydantic

from covey import ModelClient, ModelConfig
from covey.agents import START, Agent, Checkpointer, CompiledGraph, Graph, append
from covey.models import ToolCall
from covey.store import CheckpointStore, Store
from covey.testing import ChatRequest, Reply
from covey.tools import FunctionTool, tool

REPO = Path(__file__).resolve().parents[2]


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


class Trip(pydantic.BaseModel):
    log: Annotated[list[str], append] = []
    answer: str = ""


def errand_policy(request: ChatRequest) -> Reply:
    """Look Ada up, mail Ada, mail Bob, answer; call ids differ on every request."""
    done = [m for m in request.body["messages"] if m.get("role") == "tool"]
    fresh = f"call_{len(request.body['messages'])}_{id(request)}"  # as a real model's ids
    steps = [
        ToolCall(id=fresh, name="lookup", arguments={"name": "ada"}),
        ToolCall(id=fresh, name="send_email", arguments={"to": "ada", "body": "Hi"}),
        ToolCall(id=fresh, name="send_email", arguments={"to": "bob", "body": "Hi"}),
    ]
    if len(done) < len(steps):
        return Reply(tool_calls=[steps[len(done)]])
    return Reply(text=f"Done: {done[-1]['content']}")


def errand_tools(calls: Path) -> list[FunctionTool]:
    """`lookup` and `send_email` (which needs approval); each call is a line in `calls`."""

    def note(line: str) -> None:
        with calls.open("a") as fh:
            fh.write(line + "\n")

    @tool
    def lookup(name: str) -> str:
        """Find a person's address."""
        note(f"lookup {name}")
        return f"{name}@example.org"

    @tool(requires_approval=True)
    def send_email(to: str, body: str) -> str:
        """Send an email."""
        note(f"send {to}")
        return f"sent to {to}"

    return [lookup, send_email]


def errand_graph(
    model: ModelClient, checkpointer: Checkpointer, calls: Path
) -> CompiledGraph[Trip]:
    """assistant (an agent that looks up and mails, needing approval) -> after."""
    agent = Agent("assistant", model, tools=errand_tools(calls))
    graph = Graph(Trip)
    graph.add_node("assistant", agent, input=lambda s: "Mail Ada and Bob.", output="answer")
    graph.add_node("after", lambda s: {"log": [f"after: {s.answer}"]})
    graph.add_edge(START, "assistant").add_edge("assistant", "after")
    return graph.compile(checkpointer=checkpointer)


async def errand(
    url: str, schema: str, thread: str, answer: str, model_url: str, calls: str
) -> None:
    config = ModelConfig(base_url=model_url, model="scripted", backoff_base=0.01)
    async with Store.from_url(url, schema=schema or None) as store, ModelClient(config) as model:
        app = errand_graph(model, CheckpointStore(store), Path(calls))
        result = await app.resume(thread, answer)
    state = result.state.model_dump()
    print(json.dumps({"status": result.status, "question": result.question, "state": state}))


async def main(url: str, schema: str, thread: str, answer: str) -> None:
    async with Store.from_url(url, schema=schema or None) as store:
        result = await review_graph(CheckpointStore(store)).resume(thread, answer)
    print(json.dumps({"status": result.status, "state": result.state.model_dump()}))


if __name__ == "__main__":
    if sys.argv[1] == "errand":
        url, schema, thread, answer, model_url, calls = sys.argv[2:]
        anyio.run(errand, url, schema, thread, answer, model_url, calls)
    else:
        url, schema, thread, answer = sys.argv[1:]
        anyio.run(main, url, schema, thread, answer)
