"""Building a graph: typed state, nodes, and the edges between them.

```python
graph = Graph(State)
graph.add_node("plan", plan)                       # async def plan(state) -> {"field": value}
graph.add_node("work", work)                       # async def work(state, payload) -> {...}
graph.add_edge(START, "plan")
graph.add_router("plan", lambda s: [Send("work", item) for item in s.items])
graph.add_edge("work", END)
app = graph.compile()
result = await app.run(State(items=[1, 2, 3]))
```
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pydantic

from .._errors import UsageError
from ._graph_state import StateSchema

if TYPE_CHECKING:
    from ._graph_run import Checkpointer, CompiledGraph
    from ._graph_tasks import EffectLog

__all__ = ["START", "END", "Send", "Graph", "NodeSpec", "Route"]

START = "__start__"
"""Where a run begins: `graph.add_edge(START, "first")`."""
END = "__end__"
"""Where a branch ends: `graph.add_edge("last", END)`, or a router returning END."""

S = TypeVar("S", bound=pydantic.BaseModel)


@dataclass(frozen=True, slots=True)
class Send:
    """Run `node` once with `payload` (a router returns several of these to fan out)."""

    node: str
    """The node to run."""
    payload: Any = None
    """What that run of the node receives as its second argument."""


Route = str | Send | Sequence[str | Send]
"""What a router returns: a node name, END, a `Send`, or several of them."""
Router = Callable[[Any], Route | Awaitable[Route]]


@dataclass(kw_only=True, slots=True)
class NodeSpec:
    """One node: what it runs and what it is known to write."""

    name: str
    run: Callable[[Any, Any, Any], Awaitable[Mapping[str, Any] | None]]
    """`(state, payload, context) -> partial update`."""
    writes: frozenset[str] | None = None
    """Fields the node writes, when declared (lets compile() find conflicts)."""
    human: tuple[Callable[[Any], str], Callable[[Any, Any], Mapping[str, Any]]] | None = None
    """For a human-input node: `(ask(state) -> question, apply(state, answer) -> update)`."""


@dataclass(kw_only=True, slots=True)
class _Edges:
    static: dict[str, list[str]] = field(default_factory=lambda: {})
    routers: dict[str, Router] = field(default_factory=lambda: {})
    joins: list[tuple[frozenset[str], str]] = field(default_factory=lambda: [])


class Graph(Generic[S]):
    """A graph under construction; `compile()` checks it and makes it runnable."""

    def __init__(self, state: type[S], *, name: str = "graph") -> None:
        """Start a graph whose state is the pydantic model `state`."""
        self.name = name
        self.schema = StateSchema.of(state)
        self.nodes: dict[str, NodeSpec] = {}
        self.edges = _Edges()

    def add_node(
        self,
        name: str,
        node: Callable[..., Any] | Any,
        *,
        writes: Sequence[str] | None = None,
        input: Callable[[Any], Any] | None = None,
        output: str | Callable[[Any, Any], Mapping[str, Any]] | None = None,
    ) -> Graph[S]:
        """Add a node: an async or sync function, an `Agent`, or a compiled subgraph.

        Args:
            name: unique node name.
            node: a function `(state[, payload[, context]]) -> dict | None`, an `Agent`, or a
                `CompiledGraph`.
            writes: the state fields the node writes, so conflicts show at compile time.
            input: for agents and subgraphs, what they get from the state (default: the
                payload, or for agents the state as JSON).
            output: for agents and subgraphs, the field that receives their output, or a
                function `(state, output) -> update`.
        """
        if name in (START, END) or name in self.nodes:
            raise UsageError(f"Node name {name!r} is reserved or already used.")
        from ._graph_nodes import wrap_node

        run, declared = wrap_node(node, input=input, output=output)
        writes_set = frozenset(writes) if writes is not None else declared
        if writes_set is not None:
            self.schema.check_update(name, dict.fromkeys(writes_set))
        self.nodes[name] = NodeSpec(name=name, run=run, writes=writes_set)
        return self

    def add_human(
        self,
        name: str,
        ask: Callable[[Any], str],
        apply: Callable[[Any, Any], Mapping[str, Any]],
    ) -> Graph[S]:
        """Add a node where the run stops for a person's answer.

        The run ends with status `interrupted` and the question from `ask(state)`;
        `resume(thread_id, answer)`, from any process, continues with `apply(state, answer)`
        as this node's update. Nothing of the user's code runs twice.
        """
        if name in (START, END) or name in self.nodes:
            raise UsageError(f"Node name {name!r} is reserved or already used.")

        async def never(state: Any, payload: Any, context: Any) -> Mapping[str, Any] | None:
            raise AssertionError("human nodes are answered by resume(), not run")

        self.nodes[name] = NodeSpec(name=name, run=never, human=(ask, apply))
        return self

    def add_edge(self, source: str | Sequence[str], target: str) -> Graph[S]:
        """After `source` runs, run `target`; with several sources, after all of them ran."""
        if isinstance(source, str):
            self.edges.static.setdefault(source, []).append(target)
        else:
            self.edges.joins.append((frozenset(source), target))
        return self

    def add_router(self, source: str, route: Router) -> Graph[S]:
        """After `source` runs, `route(state)` names the next node(s), Sends, or END."""
        if source in self.edges.routers:
            raise UsageError(f"Node {source!r} already has a router; combine them into one.")
        self.edges.routers[source] = route
        return self

    def compile(
        self,
        *,
        checkpointer: Checkpointer | None = None,
        step_limit: int = 100,
        journal: EffectLog | None = None,
    ) -> CompiledGraph[S]:
        """Check the graph and make it runnable.

        Args:
            checkpointer: Where each superstep is committed (`covey.store.CheckpointStore`
                for durable threads, `MemoryCheckpointer` for tests); None keeps nothing.
            step_limit: Supersteps a thread may take before `GraphStepLimit`.
            journal: Where nodes' `ctx.effect(...)` results go; defaults to the store's
                `EffectJournal` when the checkpointer is a `CheckpointStore`.

        Raises:
            UsageError: unknown nodes in edges, no way in from START, or two nodes that can
                run in one superstep writing one field that has no reducer.
        """
        from ._graph_check import check_graph
        from ._graph_run import CompiledGraph

        check_graph(self)
        return CompiledGraph(
            self, checkpointer=checkpointer, step_limit=step_limit, journal=journal
        )
