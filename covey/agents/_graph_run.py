"""Running a graph in supersteps, with a checkpoint committed after each one."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar, runtime_checkable

import pydantic

from .._concurrency import run_all
from .._errors import CoveyError, RunError, UsageError
from ..tracing._genai import span
from ._checkpoint_memory import MemoryCheckpointer
from ._graph_events import (
    GraphEvent,
    GraphFinished,
    GraphInterrupted,
    NodeFinished,
    NodeStarted,
    StateUpdated,
)
from ._graph_state import FieldOp
from ._graph_tasks import AskPending, EffectLog, NodeContext, Task, next_tasks, start_tasks
from ._stream import EventStream

if TYPE_CHECKING:
    from ._graph import Graph, NodeSpec

__all__ = [
    "Checkpointer",
    "SavedCheckpoint",
    "CompiledGraph",
    "GraphResult",
    "GraphStepLimit",
    "NodeFailed",
]

S = TypeVar("S", bound=pydantic.BaseModel)
Emit = Callable[[GraphEvent], Awaitable[None]]


class SavedCheckpoint(Protocol):
    """What a checkpointer returns for a thread's latest checkpoint."""

    @property
    def step(self) -> int: ...  # protocol member

    @property
    def state(self) -> dict[str, Any]: ...  # protocol member

    @property
    def metadata(self) -> dict[str, Any]: ...  # protocol member


class Checkpointer(Protocol):
    """Where a graph commits a checkpoint after each superstep (see `covey.store`)."""

    async def commit(
        self,
        thread_id: str,
        *,
        step: int,
        delta: list[FieldOp],
        next_nodes: list[str],
        interrupt: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Record one superstep in one transaction; returns the checkpoint id."""
        ...  # protocol member

    async def latest(self, thread_id: str) -> SavedCheckpoint | None:
        """The thread's last committed checkpoint, with its full state."""
        ...  # protocol member


class CheckpointRef(Protocol):
    """A checkpoint as a history lists it."""

    @property
    def id(self) -> str: ...  # protocol member
    @property
    def step(self) -> int: ...  # protocol member


@runtime_checkable
class ForkingCheckpointer(Checkpointer, Protocol):
    """A checkpointer that keeps history and can start a thread from any checkpoint."""

    async def history(self, thread_id: str) -> Sequence[CheckpointRef]:
        """The thread's checkpoints, newest first."""
        ...  # protocol member

    async def fork(self, checkpoint_id: str, new_thread_id: str) -> str:
        """Copy a checkpoint into a new thread; returns the new checkpoint's id."""
        ...  # protocol member


class GraphStepLimit(RunError):
    """A graph ran more supersteps than its step limit (usually a cycle that never ends)."""


class NodeFailed(RunError):
    """A node raised; the last committed superstep is kept, so the thread can be resumed."""


@dataclass(kw_only=True, slots=True, frozen=True)
class GraphResult(Generic[S]):
    """How a graph run ended."""

    state: S
    """The state at the end (or at the interrupt)."""
    status: Literal["done", "interrupted"]
    """`done`, or `interrupted` waiting for `resume(thread_id, answer)`."""
    thread_id: str
    """The thread the run belongs to."""
    steps: int
    """Supersteps committed so far in this thread."""
    question: str | None = None
    """What the interrupting node asks, when interrupted."""


@dataclass(kw_only=True, slots=True)
class _Cursor:
    state: pydantic.BaseModel
    tasks: list[Task]
    step: int
    """Checkpoints committed in the thread: supersteps plus the questions nodes asked."""
    superstep: int = 0
    """Supersteps completed: what task keys (effects, questions) are built on."""
    joins: dict[str, list[str]] = field(default_factory=lambda: {})
    answers: dict[str, Any] = field(default_factory=lambda: {})
    asking: dict[str, str] | None = None

    def metadata(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "tasks": [t.to_json() for t in self.tasks],
            "joins": self.joins,
            "superstep": self.superstep,
        }
        if self.answers:
            data["answers"] = self.answers
        if self.asking is not None:
            data["asking"] = self.asking
        return data

    @classmethod
    def load(cls, state: pydantic.BaseModel, step: int, meta: Mapping[str, Any]) -> _Cursor:
        return cls(
            state=state,
            tasks=[Task.from_json(t) for t in meta.get("tasks", [])],
            step=step,
            superstep=meta.get("superstep", step),
            joins={k: list(v) for k, v in meta.get("joins", {}).items()},
            answers=dict(meta.get("answers", {})),
            asking=meta.get("asking"),
        )


def default_journal(checkpointer: Checkpointer) -> EffectLog | None:
    """Where a graph on `checkpointer` records its nodes' effects, unless given one."""
    if isinstance(checkpointer, MemoryCheckpointer):
        return checkpointer.effects
    from ..store import CheckpointStore, EffectJournal  # SQLAlchemy: only for store users

    if isinstance(checkpointer, CheckpointStore):
        return EffectJournal(checkpointer.store)
    return None


class CompiledGraph(Generic[S]):
    """A checked graph, ready to run, stream, resume and serve as a node of another graph."""

    def __init__(
        self,
        graph: Graph[S],
        *,
        checkpointer: Checkpointer | None,
        step_limit: int,
        journal: EffectLog | None = None,
    ):
        """Use `Graph.compile()`."""
        self.graph = graph
        self.checkpointer = checkpointer
        self.step_limit = step_limit
        if journal is None and checkpointer is not None:
            journal = default_journal(checkpointer)
        self.journal = journal
        """Where nodes' `ctx.effect(...)` results are recorded."""

    @property
    def name(self) -> str:
        """The graph's name."""
        return self.graph.name

    async def run(
        self, state: S, *, thread_id: str | None = None, emit: Emit | None = None
    ) -> GraphResult[S]:
        """Run from the start with `state` until the end or an interrupt.

        Raises:
            NodeFailed: a node raised (resume the thread once the cause is fixed).
            GraphStepLimit: the step limit was reached.
            UsageError: `thread_id` already has checkpoints (continue it with `resume()`).
        """
        thread = thread_id or uuid.uuid4().hex
        if thread_id is not None and self.checkpointer is not None:
            if await self.checkpointer.latest(thread_id) is not None:
                raise UsageError(
                    f"Thread {thread_id!r} already has checkpoints, so run() would overwrite "
                    "its history: continue it with resume(thread_id), or start a new thread "
                    "(another thread_id, or none for a fresh one)."
                )
        cursor = _Cursor(state=state, tasks=start_tasks(self.graph), step=0)
        ops = [
            FieldOp(field=k, op="set", value=v) for k, v in state.model_dump(mode="json").items()
        ]
        with span(f"graph {self.name}", {"covey.graph.name": self.name, "covey.thread_id": thread}):
            await self._commit(thread, cursor, ops)
            return await self._loop(thread, cursor, None, emit or _discard)

    async def resume(
        self, thread_id: str, answer: Any = None, *, emit: Emit | None = None
    ) -> GraphResult[S]:
        """Continue a thread from its last committed superstep (after a crash or interrupt).

        Raises:
            UsageError: no checkpointer, or no such thread.
        """
        if self.checkpointer is None:
            raise UsageError("resume() needs a checkpointer: graph.compile(checkpointer=...).")
        saved = await self.checkpointer.latest(thread_id)
        if saved is None:
            raise UsageError(f"No checkpoint for thread {thread_id!r}: start it with run().")
        state = self.graph.schema.model.model_validate(saved.state)
        cursor = _Cursor.load(state, saved.step, saved.metadata)
        attributes = {"covey.graph.name": self.name, "covey.thread_id": thread_id}
        with span(f"graph {self.name}", {**attributes, "covey.graph.resumed": True}):
            return await self._loop(thread_id, cursor, answer, emit or _discard)

    async def fork(self, thread_id: str, *, step: int, new_thread_id: str | None = None) -> str:
        """Branch a thread at an earlier superstep; `resume(new_thread_id)` continues it.

        The source thread is left as it is. Returns the new thread's id (a fresh one unless
        `new_thread_id` is given).

        Raises:
            UsageError: the checkpointer keeps no history, or the thread has no such step.
        """
        checkpointer = self.checkpointer
        if not isinstance(checkpointer, ForkingCheckpointer):
            raise UsageError(
                "fork() needs a checkpointer with history, such as covey.store.CheckpointStore "
                "or MemoryCheckpointer: graph.compile(checkpointer=...)."
            )
        history = await checkpointer.history(thread_id)
        found = [c for c in history if c.step == step]
        if not found:
            steps = sorted(c.step for c in history)
            raise UsageError(
                f"Thread {thread_id!r} has no checkpoint at step {step}; its steps are {steps}."
            )
        new_thread = new_thread_id or uuid.uuid4().hex
        await checkpointer.fork(found[0].id, new_thread)
        return new_thread

    def stream(
        self, state: S, *, thread_id: str | None = None
    ) -> EventStream[GraphEvent, GraphResult[S]]:
        """Run, streaming node starts and ends, state updates and the inner agents' events."""
        return EventStream(lambda emit, _: self.run(state, thread_id=thread_id, emit=emit))

    async def _commit(
        self,
        thread: str,
        cursor: _Cursor,
        ops: list[FieldOp],
        interrupt: dict[str, Any] | None = None,
    ) -> None:
        if self.checkpointer is None:
            return
        await self.checkpointer.commit(
            thread,
            step=cursor.step,
            delta=ops,
            next_nodes=[t.node for t in cursor.tasks],
            interrupt=interrupt,
            metadata=cursor.metadata(),
        )

    async def _loop(self, thread: str, cursor: _Cursor, answer: Any, emit: Emit) -> GraphResult[S]:
        graph = self.graph
        while cursor.tasks:
            if cursor.asking is not None:
                if answer is None:
                    return self._result(cursor, thread, "interrupted", cursor.asking["question"])
                cursor.answers[cursor.asking["key"]] = answer
                cursor.asking, answer = None, None
            if cursor.superstep >= self.step_limit:
                raise GraphStepLimit(
                    f"Graph {graph.name!r} reached its step limit ({self.step_limit}) in "
                    f"thread {thread!r}; the next nodes were {[t.node for t in cursor.tasks]}. "
                    "Check the routers for a cycle that never ends, or raise step_limit.",
                    agent=graph.name,
                )
            human = next((t for t in cursor.tasks if graph.nodes[t.node].human), None)
            if human is not None and answer is None:
                ask = graph.nodes[human.node].human
                assert ask is not None
                question = ask[0](cursor.state)
                await emit(GraphInterrupted(node=human.node, question=question, thread_id=thread))
                return self._result(cursor, thread, "interrupted", question)
            try:
                with span(f"superstep {cursor.step}", {"covey.graph.step": cursor.step}):
                    updates = await self._superstep(thread, cursor, answer, emit)
            except AskPending as pending:
                return await self._ask(thread, cursor, pending, emit)
            answer = None
            cursor.state, ops = graph.schema.apply(cursor.state, updates)
            ran = [t.node for t in cursor.tasks]
            cursor.tasks = await next_tasks(graph, ran, cursor.state, cursor.joins)
            cursor.step += 1
            cursor.superstep += 1
            cursor.answers = {}  # their keys name the finished superstep
            await self._commit(thread, cursor, ops)
            await emit(StateUpdated(step=cursor.step, state=cursor.state, nodes=tuple(ran)))
        await emit(GraphFinished(thread_id=thread, steps=cursor.step, state=cursor.state))
        return self._result(cursor, thread, "done", None)

    async def _ask(
        self, thread: str, cursor: _Cursor, pending: AskPending, emit: Emit
    ) -> GraphResult[S]:
        """Commit the question (the superstep's updates are dropped; it runs again)."""
        node = pending.node
        cursor.asking = {"key": pending.key, "question": pending.question, "node": node}
        cursor.step += 1
        await self._commit(thread, cursor, [], interrupt=cursor.asking)
        await emit(GraphInterrupted(node=node, question=pending.question, thread_id=thread))
        return self._result(cursor, thread, "interrupted", pending.question)

    def _result(
        self,
        cursor: _Cursor,
        thread: str,
        status: Literal["done", "interrupted"],
        question: str | None,
    ) -> GraphResult[S]:
        state: Any = cursor.state
        return GraphResult(
            state=state, status=status, thread_id=thread, steps=cursor.step, question=question
        )

    async def _superstep(
        self, thread: str, cursor: _Cursor, answer: Any, emit: Emit
    ) -> list[tuple[str, Mapping[str, Any]]]:
        graph = self.graph
        results: list[tuple[str, Mapping[str, Any]] | None] = [None] * len(cursor.tasks)

        async def one(index: int, task: Task) -> None:
            spec = graph.nodes[task.node]
            label = task.label(index, cursor.tasks)
            with span(
                f"node {label}", {"covey.graph.node": task.node, "covey.graph.step": cursor.step}
            ):
                await node(spec, task, index, label)

        async def node(spec: NodeSpec, task: Task, index: int, label: str) -> None:
            await emit(NodeStarted(node=task.node, step=cursor.step, label=label))
            if spec.human is not None:
                update = spec.human[1](cursor.state, answer)
            else:
                context = NodeContext(
                    thread_id=thread,
                    step=cursor.superstep,
                    node=task.node,
                    index=index,
                    emit=emit,
                    journal=self.journal,
                    answers=cursor.answers,
                    checkpointer=self.checkpointer,
                )
                try:
                    update = await spec.run(cursor.state, task.payload, context)
                except (CoveyError, AskPending):
                    raise
                except Exception as exc:
                    raise NodeFailed(
                        f"Node {label!r} of graph {graph.name!r} failed in step {cursor.step} "
                        f"of thread {thread!r}: {type(exc).__name__}: {exc}. The last committed "
                        "step is kept: fix the cause and call resume(thread_id).",
                        agent=graph.name,
                    ) from exc
            update = dict(update or {})
            graph.schema.check_update(label, update)
            results[index] = (label, update)
            await emit(NodeFinished(node=task.node, step=cursor.step, label=label, update=update))

        await run_all([partial(one, i, t) for i, t in enumerate(cursor.tasks)])
        return [r for r in results if r is not None]


async def _discard(_: GraphEvent) -> None:
    return None
