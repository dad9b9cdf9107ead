"""Events of a graph run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pydantic

from ..tools import ToolEvent
from ._events import AgentEvent

__all__ = [
    "NodeStarted",
    "NodeFinished",
    "StateUpdated",
    "NodeEvent",
    "GraphInterrupted",
    "GraphFinished",
    "GraphEvent",
]


@dataclass(kw_only=True, slots=True, frozen=True)
class NodeStarted:
    """A node began, in superstep `step`."""

    node: str
    """Node name."""
    step: int
    """Superstep number (from 0)."""
    label: str
    """Node name, with the fan-out index when one node runs several times (`work[2]`)."""


@dataclass(kw_only=True, slots=True, frozen=True)
class NodeFinished:
    """A node ended with a partial state update."""

    node: str
    """Node name."""
    step: int
    """Superstep number."""
    label: str
    """Node label (see `NodeStarted.label`)."""
    update: Mapping[str, Any]
    """What the node returned."""


@dataclass(kw_only=True, slots=True, frozen=True)
class StateUpdated:
    """A superstep's updates were merged and committed."""

    step: int
    """Supersteps committed so far."""
    state: pydantic.BaseModel
    """The new state."""
    nodes: tuple[str, ...]
    """The nodes that ran in the superstep."""


@dataclass(kw_only=True, slots=True, frozen=True)
class NodeEvent:
    """An event of an agent (or subgraph) running inside a node."""

    node: str
    """The node it runs in."""
    event: AgentEvent | ToolEvent | Any
    """The inner event."""


@dataclass(kw_only=True, slots=True, frozen=True)
class GraphInterrupted:
    """The run stopped for a person's answer."""

    node: str
    """The human-input node."""
    question: str
    """What it asks."""
    thread_id: str
    """The thread to resume."""


@dataclass(kw_only=True, slots=True, frozen=True)
class GraphFinished:
    """The run reached the end."""

    thread_id: str
    """The thread."""
    steps: int
    """Supersteps committed."""
    state: pydantic.BaseModel
    """The final state."""


GraphEvent = (
    NodeStarted | NodeFinished | StateUpdated | NodeEvent | GraphInterrupted | GraphFinished
)
