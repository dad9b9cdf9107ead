"""Agents: the run loop over a model and tools, with events for everything that happens."""

from ._agent import Agent, AgentStream, RunResult
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
from ._toolbox import Approval, ToolSource

__all__ = [
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
