"""What `Graph.compile()` checks before anything runs."""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING, Any

from .._errors import UsageError

if TYPE_CHECKING:
    from ._graph import Graph

__all__ = ["check_graph"]


def _check_names(graph: Graph[Any]) -> None:
    from ._graph import END, START

    known = set(graph.nodes) | {START, END}
    ends: list[tuple[str, str]] = []
    for source, targets in graph.edges.static.items():
        ends.extend((source, t) for t in targets)
    for sources, target in graph.edges.joins:
        ends.extend((s, target) for s in sources)
    ends.extend((s, s) for s in graph.edges.routers)
    for source, target in ends:
        for name in (source, target):
            if name not in known:
                listed = ", ".join(graph.nodes) or "none yet"
                raise UsageError(
                    f"Graph {graph.name!r} has an edge {source!r} -> {target!r}, but "
                    f"{name!r} is not a node. The nodes are: {listed}."
                )
    if not graph.edges.static.get(START):
        raise UsageError(
            f"Graph {graph.name!r} has no edge from START: add graph.add_edge(START, 'first')."
        )


def _check_conflicts(graph: Graph[Any]) -> None:
    """Nodes that one static fan-out starts together must not both write a plain field."""
    for source, targets in graph.edges.static.items():
        for a, b in combinations(dict.fromkeys(targets), 2):
            spec_a, spec_b = graph.nodes.get(a), graph.nodes.get(b)
            if spec_a is None or spec_b is None or spec_a.writes is None or spec_b.writes is None:
                continue
            clash = sorted(
                f for f in spec_a.writes & spec_b.writes if graph.schema.reducers.get(f) is None
            )
            if clash:
                raise UsageError(
                    f"Nodes {a!r} and {b!r} both run after {source!r} and both write state "
                    f"field(s) {clash}, which have no reducer. Give the field a reducer "
                    "(Annotated[..., append] / merge / add / reducer(fn)) or let one node "
                    "write it."
                )


def check_graph(graph: Graph[Any]) -> None:
    """Raise `UsageError` for a graph that cannot run correctly."""
    _check_names(graph)
    _check_conflicts(graph)
