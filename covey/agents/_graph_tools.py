"""An agent node's tool calls, kept in the graph's effect journal and approved through ctx.ask."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, cast

import pydantic_core

from ..models import ToolCall
from ..tools import ElicitationHandler, ElicitationRequest, ElicitationResponse, ToolResult
from ._graph_tasks import NodeContext

__all__ = ["NodeToolJournal", "ask_approval", "elicitation_answer"]

_YES = frozenset({"yes", "y", "ok", "allow", "allowed", "approve", "approved", "true"})


async def ask_approval(
    context: NodeContext, agent: str, call: ToolCall, *, key: str | None = None
) -> bool | str:
    """Ask a person, through the graph, whether an agent may make a tool call.

    The run stops with the question; `resume(thread_id, answer)` continues with the answer:
    `True` or "yes" allows the call, anything else refuses it (a string is the reason given
    to the model; "no: too expensive" says why). `key` ties the answer to this call rather
    than to the question's place among the node's questions.
    """
    arguments = json.dumps(call.arguments, ensure_ascii=False)
    if len(arguments) > 500:
        arguments = arguments[:500] + "...(truncated)"
    answer = await context.ask(
        f"Agent {agent!r} wants to call the tool {call.name!r} with {arguments}. "
        "Allow it? Answer yes, or no with a reason.",
        key=key,
    )
    if answer is True or (isinstance(answer, str) and answer.strip().lower() in _YES):
        return True
    if isinstance(answer, str) and answer.strip():
        return f"a person said {answer.strip()!r}"
    return "a person refused it"


_NO = frozenset({"no", "n", "decline", "declined", "refuse", "false"})


def elicitation_answer(request: ElicitationRequest, answer: Any) -> ElicitationResponse:
    """A person's answer (JSON data) as the answer to an MCP server's elicitation.

    An object is the form's content; "no" or False declines and "cancel" cancels; any other
    text (or number) fills a form that has one field, and accepts a URL request.
    """
    if isinstance(answer, dict):
        return ElicitationResponse(action="accept", content=cast(dict[str, Any], answer))
    text = answer.strip().lower() if isinstance(answer, str) else None
    if answer is None or answer is False or text in _NO:
        return ElicitationResponse(action="decline")
    if text == "cancel":
        return ElicitationResponse(action="cancel")
    if request.url is not None:
        return ElicitationResponse(action="accept")
    fields = list(request.schema.get("properties", {}))
    if len(fields) == 1:
        return ElicitationResponse(action="accept", content={fields[0]: answer})
    return ElicitationResponse(action="decline")


@dataclass(kw_only=True, slots=True)
class NodeToolJournal:
    """The `ToolJournal` an agent node gives its agent: a run of the node again replays.

    A call's key is its tool name, a digest of its arguments and how many identical calls
    came before it in the run, under the task's key (`<thread>/<step>/<node>/<index>`); so
    when the node runs again after a resume, each call the model makes again gets the
    recorded result of the first run, and its approval the answer given for it.
    """

    context: NodeContext
    """The node's task."""
    agent: str
    """The agent's name, for approval questions."""
    ask: bool
    """Whether calls needing approval are asked through the graph (`ctx.ask`)."""
    _seen: dict[str, int] = field(default_factory=lambda: {})

    def key(self, call: ToolCall) -> str:
        """`tool/<name>/<digest of arguments>/<n>`, counting identical calls in the run."""
        arguments = json.dumps(call.arguments, sort_keys=True, ensure_ascii=False, default=str)
        digest = hashlib.sha256(f"{call.name}\0{arguments}".encode()).hexdigest()[:16]
        base = f"{call.name}/{digest}"
        count = self._seen.get(base, 0)
        self._seen[base] = count + 1
        return f"tool/{base}/{count}"

    async def replay(self, key: str) -> ToolResult | None:
        """The result recorded when the call completed in an earlier run of this task."""
        log = self.context.journal
        if log is None:
            return None
        done = await log.get(self.context.thread_id, f"{self.context.key}/{key}")
        if done is None:
            return None
        data: dict[str, Any] = done.result
        return ToolResult(
            content=data["content"],
            is_error=data["is_error"],
            structured=data.get("structured"),
            invalid_arguments=data.get("invalid_arguments", False),
        )

    async def record(self, key: str, result: ToolResult) -> None:
        """Record a completed call in the graph's effect journal."""
        log = self.context.journal
        if log is None:
            return
        data = {
            "content": result.content,
            "is_error": result.is_error,
            "structured": pydantic_core.to_jsonable_python(result.structured, fallback=str),
            "invalid_arguments": result.invalid_arguments,
        }
        await log.record(self.context.thread_id, f"{self.context.key}/{key}", data)

    def elicitation(self, key: str) -> ElicitationHandler:
        """Ask the server's questions of the call under `key` through the graph (`ctx.ask`).

        An MCP server's request cannot outlive its process, so the run stops, and on resume
        the node runs again: the call is made afresh and the recorded answer goes to the
        server when it asks the same question again.
        """
        asked = [0]

        async def elicit(request: ElicitationRequest) -> ElicitationResponse:
            which = f"elicit/{key}/{asked[0]}"  # the call's questions, in the order it asks
            asked[0] += 1
            return elicitation_answer(request, await self.context.ask(request.message, key=which))

        return elicit

    async def approve(self, key: str, call: ToolCall) -> bool | str | None:
        """Ask through the graph, keyed by the call; None when the agent has its own `approve`."""
        if not self.ask:
            return None
        return await ask_approval(self.context, self.agent, call, key=f"approve/{key}")
