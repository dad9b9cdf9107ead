"""Agents: the run loop over a model and tools, with events for everything that happens."""

from ._agent import Agent, AgentStream, RunResult
from ._checkpoint_memory import MemoryCheckpointer
from ._events import (
    AgentEvent,
    ErrorOccurred,
    ModelRequestStarted,
    ModelResponded,
    ReasoningChunk,
    RetryScheduled,
    RunFinished,
    RunStarted,
    TextChunk,
    ToolCallRequested,
    ToolFinished,
    ToolStarted,
)
from ._graph import END, START, Graph, Send
from ._graph_events import (
    GraphEvent,
    GraphFinished,
    GraphInterrupted,
    NodeEvent,
    NodeFinished,
    NodeStarted,
    StateUpdated,
)
from ._graph_run import Checkpointer, CompiledGraph, GraphResult, GraphStepLimit, NodeFailed
from ._graph_state import FieldOp, Reducer, add, append, merge, reducer
from ._graph_tasks import NodeContext
from ._patterns import (
    Review,
    Routing,
    TeamState,
    Turn,
    critic_loop,
    handoff,
    map_reduce,
    pipeline,
    supervisor,
)
from ._stream import EventStream
from ._toolbox import Approval, ToolSource

__all__ = [
    "END",
    "START",
    "Checkpointer",
    "CompiledGraph",
    "EventStream",
    "FieldOp",
    "Graph",
    "GraphEvent",
    "GraphFinished",
    "GraphInterrupted",
    "GraphResult",
    "GraphStepLimit",
    "MemoryCheckpointer",
    "NodeContext",
    "NodeEvent",
    "NodeFailed",
    "NodeFinished",
    "NodeStarted",
    "Reducer",
    "Send",
    "StateUpdated",
    "add",
    "append",
    "merge",
    "reducer",
    "Review",
    "Routing",
    "TeamState",
    "Turn",
    "critic_loop",
    "handoff",
    "map_reduce",
    "pipeline",
    "supervisor",
    "Agent",
    "AgentEvent",
    "AgentStream",
    "Approval",
    "ErrorOccurred",
    "ModelRequestStarted",
    "ModelResponded",
    "ReasoningChunk",
    "RetryScheduled",
    "RunFinished",
    "RunResult",
    "RunStarted",
    "TextChunk",
    "ToolCallRequested",
    "ToolFinished",
    "ToolSource",
    "ToolStarted",
]
