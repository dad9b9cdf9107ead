"""What a scorer sees of one trial, and the recorder that collects it from the agent's events.

A trial's record is built from the events of the agent run, not from its result, so a trial
stopped by a limit (time, turns, tokens) still has its transcript, tool calls and token
counts, and is still scored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import jsonschema

from ..agents import ModelRequestStarted, ModelResponded, NodeEvent, ToolFinished
from ..models import Message, ModelClient, ToolDefinition
from ..tools import ServerStopped
from ._environment import Environment
from ._results import ProtocolStats, ScoreResult

if TYPE_CHECKING:
    from ._world import World

__all__ = ["Scorer", "TokenLimitHit", "ToolCallRecord", "TrialContext", "TrialRecorder"]


@dataclass(kw_only=True, slots=True, frozen=True)
class ToolCallRecord:
    """One tool call the model made, and what came back."""

    name: str
    arguments: dict[str, Any]
    result: str
    """The text the model saw."""
    is_error: bool
    structured: Any = None


@dataclass(kw_only=True, slots=True)
class TrialContext:
    """Everything a scorer may look at: the case, the answer, the calls and the world."""

    case_id: str
    input: str
    output: str | None
    """The agent's final answer (None when a limit stopped it first)."""
    tool_calls: list[ToolCallRecord]
    messages: list[Message]
    """The conversation as the model last saw it, then its last answer."""
    world: World
    """The trial's world, as the agent left it (files, database, memory)."""
    limit_hit: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict[str, Any])
    """The case's metadata."""
    judge: ModelClient | None = None
    """The model rubric judges use unless they name their own (the run's `--judge`)."""
    environment: Environment | None = None
    """The trial's environment as the agent (and the user) left it, before it is closed."""
    trial_id: str = ""
    """`case#index`, unique in a run."""
    seed: int = 0
    """The trial's seed."""
    state: dict[str, Any] = field(default_factory=dict[str, Any])
    """Per-trial values shared with the environment factory and the agent factory
    (`TrialSetup.state`)."""


@runtime_checkable
class Scorer(Protocol):
    """Scores a trial. Built-in scorers are pydantic models; any object with these works."""

    @property
    def name(self) -> str:
        """Short name shown in reports, e.g. `contains` or `file`."""
        ...  # protocol member

    async def score(self, trial: TrialContext) -> ScoreResult:
        """The verdict: a value in [0, 1], passed or not, and why."""
        ...  # protocol member


class TokenLimitHit(Exception):
    """The trial used more tokens than its limit allows."""


def _text_of(message: Message) -> dict[str, Any]:
    role = type(message).__name__.removesuffix("Message").removesuffix("Result").lower()
    data: dict[str, Any] = {"role": role}
    for key in ("content", "name", "tool_call_id", "is_error"):
        value = getattr(message, key, None)
        if value not in (None, "", False):
            data[key] = value
    calls = getattr(message, "tool_calls", ())
    if calls:
        data["tool_calls"] = [{"name": c.name, "arguments": c.arguments} for c in calls]
    return data


@dataclass(kw_only=True, slots=True)
class TrialRecorder:
    """Collects a trial's turns, calls, tokens and transcript from the agent's events.

    Pass `recorder.on_event` as the agent's `on_event`. With `token_limit`, the event after
    the model response that crosses it raises `TokenLimitHit`, which ends the run.
    """

    tools: Sequence[ToolDefinition] = ()
    """The tools the agent was given, to judge names and arguments."""
    token_limit: int | None = None
    turns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    tool_calls: list[ToolCallRecord] = field(default_factory=list[ToolCallRecord])
    messages: list[Message] = field(default_factory=list[Message])
    protocol: ProtocolStats = field(default_factory=ProtocolStats)
    last_text: str = ""
    server_stops: list[ServerStopped] = field(default_factory=list[ServerStopped])
    """MCP servers that stopped mid-call: the infrastructure failed, not the agent."""

    async def on_event(self, event: object) -> None:
        """Record one event of the agent run (or of an agent inside a graph's node)."""
        if isinstance(event, NodeEvent):
            await self.on_event(event.event)
        elif isinstance(event, ModelRequestStarted):
            self.messages = list(event.messages)
            self._offered(event.tools)
        elif isinstance(event, ModelResponded):
            self._responded(event)
        elif isinstance(event, ToolFinished):
            self._called(event)
        elif isinstance(event, ServerStopped):
            self.server_stops.append(event)

    def _offered(self, tools: Sequence[ToolDefinition]) -> None:
        """Judge calls against every tool the agent was offered, of whatever kind."""
        known = {t.name for t in self.tools}
        added = [t for t in tools if t.name not in known]
        if added:
            self.tools = [*self.tools, *added]

    def _responded(self, event: ModelResponded) -> None:
        response = event.response
        self.turns += 1
        self.input_tokens += response.usage.input_tokens
        self.output_tokens += response.usage.output_tokens
        self.last_text = response.text
        # A call that did not parse names a tool (or not), never has valid arguments, and
        # its result (the parse error, sent back to the model) is an error.
        malformed = response.malformed_tool_calls
        known = {t.name for t in self.tools}
        stats = self.protocol
        self.protocol = stats.model_copy(
            update={
                "tool_calls": stats.tool_calls + len(malformed),
                "valid_tool_names": stats.valid_tool_names
                + sum(m.name in known for m in malformed),
                "tool_errors": stats.tool_errors + len(malformed),
            }
        )
        if self.token_limit is not None and self.tokens > self.token_limit:
            raise TokenLimitHit(
                f"The trial used {self.tokens} tokens, over its limit of {self.token_limit}."
            )

    def _called(self, event: ToolFinished) -> None:
        call, result = event.call, event.result
        self.tool_calls.append(
            ToolCallRecord(
                name=call.name,
                arguments=dict(call.arguments),
                result=result.content,
                is_error=result.is_error,
                structured=result.structured,
            )
        )
        known = {t.name: t for t in self.tools}
        definition = known.get(call.name)
        stats = self.protocol
        self.protocol = ProtocolStats(
            tool_calls=stats.tool_calls + 1,
            valid_tool_names=stats.valid_tool_names + (definition is not None),
            schema_valid_arguments=stats.schema_valid_arguments
            + (definition is not None and _valid(call.arguments, definition.parameters)),
            tool_errors=stats.tool_errors + result.is_error,
        )

    @property
    def tokens(self) -> int:
        """Input plus output tokens so far."""
        return self.input_tokens + self.output_tokens

    def transcript(self, output: str | None) -> list[dict[str, Any]]:
        """The conversation as JSON-ready dicts, ending with the final answer if any."""
        entries = [_text_of(m) for m in self.messages]
        final = output if output is not None else self.last_text
        if final:
            entries.append({"role": "assistant", "content": final})
        return entries


def _valid(arguments: Mapping[str, Any], schema: Mapping[str, Any]) -> bool:
    try:
        jsonschema.validate(dict(arguments), dict(schema))
    except jsonschema.ValidationError:
        return False
    except jsonschema.SchemaError:
        return True  # a tool with a broken schema cannot hold it against the model
    return True


def shown(value: Any, limit: int = 200) -> str:
    """A value as short JSON for explanations."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "..."
