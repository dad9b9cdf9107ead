"""Agents: the run loop over a model and tools, with events for everything that happens.

Every name loads on first use: `from covey.agents import Agent` imports the agent loop
alone, not graphs, the store (SQLAlchemy) or the MCP client.
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING

from .._lazy import lazy_loader as _lazy_loader
from .._lazy import lazy_names as _lazy_names

if _TYPE_CHECKING:
    from ._agent import Agent, AgentStream, RunResult
    from ._checkpoint_memory import MemoryCheckpointer
    from ._context import Compaction, ContextBudget
    from ._events import (
        AgentEvent,
        ContextCompacted,
        ErrorOccurred,
        ModelRequestStarted,
        ModelResponded,
        ReasoningChunk,
        Reflected,
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
    from ._graph_run import (
        Checkpointer,
        CompiledGraph,
        ForkingCheckpointer,
        GraphResult,
        GraphStepLimit,
        NodeFailed,
        SavedCheckpoint,
    )
    from ._graph_state import FieldOp, Reducer, add, append, merge, reducer
    from ._graph_tasks import AskPending, EffectLog, NodeContext
    from ._lessons import Lessons
    from ._patterns import (
        Review,
        Routing,
        TeamState,
        Turn,
        critic_loop,
        handoff,
        map_reduce,
        pipeline,
        reflect_loop,
        supervisor,
    )
    from ._reflection import Critique, Reflection
    from ._stream import EventStream
    from ._toolbox import Approval, ToolJournal, ToolSource

_LAZY = {
    **_lazy_names("covey.agents._agent", ("Agent", "AgentStream", "RunResult")),
    **_lazy_names("covey.agents._checkpoint_memory", ("MemoryCheckpointer",)),
    **_lazy_names("covey.agents._context", ("Compaction", "ContextBudget")),
    **_lazy_names(
        "covey.agents._events",
        (
            "AgentEvent",
            "ContextCompacted",
            "ErrorOccurred",
            "ModelRequestStarted",
            "ModelResponded",
            "ReasoningChunk",
            "Reflected",
            "RetryScheduled",
            "RunFinished",
            "RunStarted",
            "TextChunk",
            "ToolCallRequested",
            "ToolFinished",
            "ToolStarted",
        ),
    ),
    **_lazy_names("covey.agents._graph", ("END", "START", "Graph", "Send")),
    **_lazy_names(
        "covey.agents._graph_events",
        (
            "GraphEvent",
            "GraphFinished",
            "GraphInterrupted",
            "NodeEvent",
            "NodeFinished",
            "NodeStarted",
            "StateUpdated",
        ),
    ),
    **_lazy_names(
        "covey.agents._graph_run",
        (
            "Checkpointer",
            "CompiledGraph",
            "ForkingCheckpointer",
            "GraphResult",
            "GraphStepLimit",
            "NodeFailed",
            "SavedCheckpoint",
        ),
    ),
    **_lazy_names(
        "covey.agents._graph_state", ("FieldOp", "Reducer", "add", "append", "merge", "reducer")
    ),
    **_lazy_names("covey.agents._graph_tasks", ("AskPending", "EffectLog", "NodeContext")),
    **_lazy_names("covey.agents._lessons", ("Lessons",)),
    **_lazy_names(
        "covey.agents._patterns",
        (
            "Review",
            "Routing",
            "TeamState",
            "Turn",
            "critic_loop",
            "handoff",
            "map_reduce",
            "pipeline",
            "reflect_loop",
            "supervisor",
        ),
    ),
    **_lazy_names("covey.agents._reflection", ("Critique", "Reflection")),
    **_lazy_names("covey.agents._stream", ("EventStream",)),
    **_lazy_names("covey.agents._toolbox", ("Approval", "ToolJournal", "ToolSource")),
}
__getattr__ = _lazy_loader(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "END",
    "START",
    "Checkpointer",
    "ForkingCheckpointer",
    "SavedCheckpoint",
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
    "EffectLog",
    "AskPending",
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
    "reflect_loop",
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
    "ContextCompacted",
    "Reflected",
    "Reflection",
    "Critique",
    "Lessons",
    "ContextBudget",
    "Compaction",
    "RunFinished",
    "RunResult",
    "RunStarted",
    "TextChunk",
    "ToolCallRequested",
    "ToolFinished",
    "ToolJournal",
    "ToolSource",
    "ToolStarted",
]
