"""Turning what a user adds as a node (function, agent, subgraph) into one calling form."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

import pydantic

from .._errors import UsageError
from ._agent import Agent
from ._graph_events import NodeEvent
from ._graph_run import CompiledGraph, GraphResult
from ._graph_state import StateSchema
from ._graph_tasks import NodeContext
from ._graph_tools import NodeToolJournal

__all__ = ["wrap_node", "adapt_function", "as_update"]

NodeRun = Callable[[Any, Any, Any], Awaitable[Mapping[str, Any] | None]]


def adapt_function(
    fn: Callable[..., Any],
) -> Callable[[Any, Any, Any], Awaitable[Mapping[str, Any] | None]]:
    """Call a node function with the arguments it declares: (state[, payload[, context]])."""
    params = [
        p
        for p in inspect.signature(fn).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    count = len(params)
    is_async = inspect.iscoroutinefunction(fn)

    async def run(state: Any, payload: Any, context: Any) -> Mapping[str, Any] | None:
        args = (state, payload, context)[: max(1, min(count, 3))]
        value = fn(*args)
        if is_async or inspect.isawaitable(value):
            value = await value
        return as_update(value)

    return run


def as_update(value: object) -> Mapping[str, Any] | None:
    if value is None or isinstance(value, Mapping):
        return value  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump(exclude_unset=True)
    raise UsageError(
        f"A node returned {type(value).__name__}; nodes return a dict of state fields to "
        "update (or None)."
    )


def _output_update(
    output: str | Callable[[Any, Any], Mapping[str, Any]], state: Any, value: Any
) -> Mapping[str, Any]:
    if isinstance(output, str):
        return {output: value}
    return output(state, value)


def _agent_node(
    agent: Agent[Any],
    input: Callable[[Any], Any] | None,
    output: str | Callable[[Any, Any], Mapping[str, Any]] | None,
) -> NodeRun:
    if output is None:
        raise UsageError(
            f"Agent node {agent.name!r} needs output='field' (or a function "
            "(state, output) -> update) to say where its answer goes in the state."
        )
    out = output

    async def run(state: Any, payload: Any, context: Any) -> Mapping[str, Any] | None:
        if input is not None:
            prompt = input(state)
        elif payload is not None:
            prompt = payload if isinstance(payload, str) else str(payload)
        else:
            prompt = state.model_dump_json()

        async def forward(event: Any) -> None:
            await context.emit(NodeEvent(node=context.node, event=event))

        tools = NodeToolJournal(context=context, agent=agent.name, ask=agent.approve is None)
        result = await agent.run(str(prompt), on_event=forward, journal=tools)
        return _output_update(out, state, result.output)

    return run


def _subgraph_node(
    graph: CompiledGraph[Any],
    input: Callable[[Any], Any] | None,
    output: str | Callable[[Any, Any], Mapping[str, Any]] | None,
) -> NodeRun:
    sub_model: type[pydantic.BaseModel] = graph.graph.schema.model

    async def run(state: Any, payload: Any, context: NodeContext) -> Mapping[str, Any] | None:
        if input is not None:
            sub_state = input(state)
        elif isinstance(payload, sub_model):
            sub_state = payload
        else:
            shared = {k: v for k, v in state.model_dump().items() if k in sub_model.model_fields}
            sub_state = sub_model.model_validate(shared)

        async def forward(event: Any) -> None:
            await context.emit(NodeEvent(node=context.node, event=event))

        result = await _run_subgraph(graph, sub_state, context, forward)
        if output is not None:
            return _output_update(output, state, result.state)
        # Send back what the subgraph changed, so the parent's reducers apply it once.
        schema = StateSchema.of(type(cast(pydantic.BaseModel, state)))
        before = cast(pydantic.BaseModel, sub_state).model_dump()
        return schema.delta(context.node, before, result.state.model_dump())

    return run


async def _run_subgraph(
    graph: CompiledGraph[Any],
    state: pydantic.BaseModel,
    context: NodeContext,
    emit: Callable[[Any], Awaitable[None]],
) -> GraphResult[Any]:
    """Run the subgraph in its own thread; its questions are asked by the parent's node.

    The subgraph's thread (`<task key>/sub`) is kept in its checkpointer, or else the
    parent's, so when the parent resumes with an answer the subgraph resumes its own thread
    with it, from its last committed superstep, rather than starting again.
    """
    if graph.checkpointer is None and context.checkpointer is not None:
        journal = graph.journal or context.journal
        graph = CompiledGraph(
            graph.graph,
            checkpointer=context.checkpointer,
            step_limit=graph.step_limit,
            journal=journal,
        )
    thread = f"{context.key}/sub"
    started = graph.checkpointer is not None and await graph.checkpointer.latest(thread)
    if started:
        result = await graph.resume(thread, emit=emit)
    else:
        result = await graph.run(state, thread_id=thread, emit=emit)
    while result.status == "interrupted":
        # Keyed by the subgraph's step: each of its questions stops at a step of its own.
        answer = await context.ask(result.question or "", key=f"sub/{result.steps}")
        result = await graph.resume(thread, answer, emit=emit)
    return result


def wrap_node(
    node: Any,
    *,
    input: Callable[[Any], Any] | None,
    output: str | Callable[[Any, Any], Mapping[str, Any]] | None,
) -> tuple[NodeRun, frozenset[str] | None]:
    """`(run(state, payload, context), fields it is known to write)` for any kind of node."""
    writes = frozenset({output}) if isinstance(output, str) else None
    if isinstance(node, Agent):
        return _agent_node(node, input, output), writes  # pyright: ignore[reportUnknownArgumentType]
    if isinstance(node, CompiledGraph):
        sub: CompiledGraph[Any] = node  # pyright: ignore[reportUnknownVariableType]
        return _subgraph_node(sub, input, output), writes
    if callable(node):
        return adapt_function(node), None
    raise UsageError(f"{node!r} cannot be a node: give a function, an Agent or a compiled graph.")
