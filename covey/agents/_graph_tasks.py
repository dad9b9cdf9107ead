"""Which nodes run in the next superstep: static edges, routers, joins and fan-out."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import pydantic

from .._errors import UsageError

if TYPE_CHECKING:
    from ._graph import Graph, Route
    from ._graph_events import GraphEvent
    from ._graph_run import Checkpointer

__all__ = ["AskPending", "EffectLog", "NodeContext", "Task", "next_tasks", "start_tasks"]

T = TypeVar("T")


class RecordedEffect(Protocol):
    """An effect the log holds."""

    @property
    def result(self) -> Any: ...  # protocol member


class EffectLog(Protocol):
    """Where effects are recorded by key, such as `covey.store.EffectJournal`."""

    async def get(self, thread_id: str, key: str) -> RecordedEffect | None:
        """The effect recorded under `key`, or None."""
        ...  # protocol member

    async def record(self, thread_id: str, key: str, result: Any) -> RecordedEffect:
        """Record an effect (the first record of a key wins)."""
        ...  # protocol member


class AskPending(Exception):
    """A node asked a question with no answer yet: the run stops and waits for `resume`.

    Raised by `NodeContext.ask()`; the graph runner catches it. Code inside a node that
    catches every `Exception` must let this one through.
    """

    def __init__(self, key: str, question: str, node: str) -> None:
        super().__init__(question)
        self.key = key
        self.question = question
        self.node = node


@dataclass(frozen=True, slots=True)
class Task:
    """One run of one node in a superstep."""

    node: str
    payload: Any = None
    sent: bool = False

    def label(self, index: int, tasks: Sequence[Task]) -> str:
        """`node`, or `node[i]` when the node runs several times in the superstep."""
        same = [i for i, t in enumerate(tasks) if t.node == self.node]
        return self.node if len(same) == 1 else f"{self.node}[{same.index(index)}]"

    def to_json(self) -> dict[str, Any]:
        """For the checkpoint."""
        return {"node": self.node, "payload": self.payload, "sent": self.sent}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Task:
        """From the checkpoint."""
        return cls(node=data["node"], payload=data.get("payload"), sent=data.get("sent", False))


@dataclass(kw_only=True, slots=True, frozen=True)
class NodeContext:
    """What a node function may know about where it runs (its third argument)."""

    thread_id: str
    """The graph thread."""
    step: int
    """The superstep."""
    node: str
    """This node's name."""
    index: int
    """This task's place in the superstep."""
    emit: Callable[[GraphEvent], Awaitable[None]]
    """Sends an event to the graph's stream."""
    journal: EffectLog | None = None
    """Where `effect()` records results (the store's journal when checkpoints are durable)."""
    answers: Mapping[str, Any] = field(default_factory=dict[str, Any])
    """Answers given so far to this superstep's questions, by question key."""
    checkpointer: Checkpointer | None = None
    """Where the graph commits; a subgraph without its own keeps its thread here."""
    _asked: list[int] = field(default_factory=lambda: [0])

    async def ask(self, question: str, *, key: str | None = None) -> Any:
        """Ask a person; the run stops here until `resume(thread_id, answer)` answers.

        The node runs again from its start when the thread resumes, and this call then
        returns the answer (as JSON data). Work before the question runs again too: do side
        effects through `effect()` so they are not repeated. A node may ask several
        questions; each stops the run once. Answers go to questions by their order in the
        node, or by `key` when given: give one when the node may ask in another order when
        it runs again (an agent node keys its approvals by the tool call).

        Example:
            ```python
            async def pay(state, payload, ctx):
                if state.amount > 1000 and await ctx.ask(f"Pay {state.amount}?") != "yes":
                    return {"status": "refused"}
                ...
            ```
        """
        if key is None:
            key = str(self._asked[0])
            self._asked[0] += 1
        key = f"{self.key}/ask/{key}"
        if key in self.answers:
            return self.answers[key]
        raise AskPending(key, question, self.node)

    @property
    def key(self) -> str:
        """A key that is the same when this task is run again after a resume."""
        return f"{self.thread_id}/{self.step}/{self.node}/{self.index}"

    async def effect(self, name: str, fn: Callable[[str], Awaitable[T] | T]) -> T:
        """Run a side effect once for this task, even when its step runs again after a resume.

        `fn` gets the effect's idempotency key (`<task key>/<name>`): pass it on to the
        system you change (a payment id, a file name) so that a crash between the effect and
        its record cannot double it either. Its result must be JSON data; a step that runs
        again gets the recorded result back (as JSON: tuples come back as lists) without
        calling `fn`. Without a journal (no checkpointer) `fn` simply runs.

        Args:
            name: Names the effect within the task; distinct effects need distinct names.
            fn: Does the effect; sync or async; gets the idempotency key.
        """
        key = f"{self.key}/{name}"
        if self.journal is not None:
            done = await self.journal.get(self.thread_id, key)
            if done is not None:
                return cast(T, done.result)
        result = fn(key)
        value = cast(T, await result) if inspect.isawaitable(result) else result
        if self.journal is not None:
            recorded = await self.journal.record(self.thread_id, key, value)
            return cast(T, recorded.result)
        return value


def start_tasks(graph: Graph[Any]) -> list[Task]:
    """The nodes that `START` leads to."""
    from ._graph import START

    return [Task(node=n) for n in graph.edges.static.get(START, [])]


async def _route(graph: Graph[Any], node: str, state: pydantic.BaseModel) -> list[Task]:
    from ._graph import END, Send

    value: Any = graph.edges.routers[node](state)
    if inspect.isawaitable(value):
        value = await value
    routed: Route = value
    items = [routed] if isinstance(routed, str | Send) else list(routed)
    tasks: list[Task] = []
    for item in items:
        if isinstance(item, Send):
            tasks.append(Task(node=item.node, payload=item.payload, sent=True))
        elif item != END:
            tasks.append(Task(node=item))
    for t in tasks:
        if t.node not in graph.nodes:
            known = ", ".join(graph.nodes)
            raise UsageError(
                f"The router after {node!r} chose {t.node!r}, which is not a node of "
                f"graph {graph.name!r}. The nodes are: {known}."
            )
    return tasks


async def next_tasks(
    graph: Graph[Any], ran: Sequence[str], state: pydantic.BaseModel, joins: dict[str, list[str]]
) -> list[Task]:
    """The tasks of the next superstep, after `ran` ran and merged into `state`."""
    from ._graph import END

    tasks: list[Task] = []
    for node in dict.fromkeys(ran):
        tasks.extend(Task(node=n) for n in graph.edges.static.get(node, []) if n != END)
        if node in graph.edges.routers:
            tasks.extend(await _route(graph, node, state))
    for sources, target in graph.edges.joins:
        key = f"{sorted(sources)}->{target}"
        seen = set(joins.get(key, [])) | (sources & set(ran))
        if seen >= sources:
            if target != END:
                tasks.append(Task(node=target))
            joins.pop(key, None)
        elif seen:
            joins[key] = sorted(seen)
    unique: list[Task] = []
    for task in tasks:
        if task.sent or task not in unique:
            unique.append(task)
    return unique
