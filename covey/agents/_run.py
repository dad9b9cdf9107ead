"""One agent run: model turn, tool calls, results back, until a final answer."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._errors import MaxTurnsExceeded, OutputValidationError, ToolRetriesExhausted
from ..models import (
    AssistantMessage,
    Message,
    ModelResponse,
    ReasoningDelta,
    ResponseDone,
    RetryInfo,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolResultMessage,
    Usage,
    UserMessage,
)
from ..tools import RunContext, ToolResult, Toolset
from ._events import (
    AgentEvent,
    ContextCompacted,
    ModelRequestStarted,
    ModelResponded,
    ReasoningChunk,
    RetryScheduled,
    TextChunk,
    ToolCallRequested,
)
from ._output import FINAL_TOOL, OutputPlan, validate_output
from ._toolbox import Approval, ToolBox, ToolJournal, malformed_result, run_calls

if TYPE_CHECKING:
    from ._agent import Agent

__all__ = ["AgentRun", "Emit"]

Emit = Callable[[AgentEvent], Awaitable[None]]


@dataclass(kw_only=True, slots=True)
class AgentRun:
    """The state of one run; `execute()` drives it to the end."""

    agent: Agent[Any]
    messages: list[Message]
    context: RunContext[Any]
    emit: Emit
    stream_model: bool
    approve: Approval | None = None
    """Decides calls to tools that require approval (the agent's, or the run's own)."""
    journal: ToolJournal | None = None
    """Keeps completed tool calls so that running the same task again replays them."""
    usage: Usage = field(default_factory=Usage)
    invalid_calls: int = 0
    output_retries: int = 0

    async def execute(self) -> Any:
        """Run turns until a final answer; returns the output (text or typed)."""
        agent = self.agent
        sources = agent.tool_sources
        caps = await agent.model.capabilities() if sources or agent.output_type else None
        native = caps.native_tools if caps is not None else True
        plan = agent.output_plan(has_tools=bool(sources), native_tools=native)
        static = not any(isinstance(source, Toolset) for source in sources)
        box = await ToolBox.gather(sources) if static else None
        for turn in range(1, agent.max_turns + 1):
            if not static or box is None:
                box = await ToolBox.gather(sources)  # toolsets may change between turns
            await self._fit_context()
            response = await self._model_turn(turn, box, plan)
            output = await self._after_response(response, box, plan)
            if output is not _CONTINUE:
                return output
        raise MaxTurnsExceeded(
            f"Agent {agent.name!r} reached max_turns={agent.max_turns} without a final answer. "
            "Raise max_turns, or make the instructions say when to stop.",
            agent=agent.name,
            messages=self.messages,
        )

    async def _fit_context(self) -> None:
        budget = self.agent.context
        if budget is None:
            return
        fitted, done = await budget.fit(self.messages, self.agent.model)
        if done is not None:
            self.messages[:] = fitted
            await self.emit(
                ContextCompacted(
                    agent=self.agent.name,
                    tokens_before=done.tokens_before,
                    tokens_after=done.tokens_after,
                    summarized_messages=done.summarized_messages,
                )
            )

    async def _model_turn(self, turn: int, box: ToolBox, plan: OutputPlan) -> ModelResponse:
        agent = self.agent
        definitions = box.definitions
        final_tool = plan.final_tool
        if final_tool is not None:
            definitions = [*definitions, final_tool]
        await self.emit(
            ModelRequestStarted(
                agent=agent.name,
                turn=turn,
                messages=tuple(self.messages),
                tools=tuple(definitions),
            )
        )
        retries: list[RetryInfo] = []
        choice = agent.tool_choice(turn) if callable(agent.tool_choice) else agent.tool_choice
        kwargs: dict[str, Any] = {
            "tools": definitions,
            "tool_choice": choice if definitions else "auto",
            "output": plan.schema,
            "settings": agent.settings,
            "on_retry": retries.append,
        }
        if self.stream_model:
            response = await self._streamed(kwargs)
        else:
            response = await agent.model.complete(self.messages, **kwargs)
        for info in retries:
            await self.emit(
                RetryScheduled(
                    agent=agent.name, what="model", attempt=info.attempt, error=info.error
                )
            )
        self.usage = self.usage + response.usage
        await self.emit(ModelResponded(agent=agent.name, turn=turn, response=response))
        return response

    async def _streamed(self, kwargs: dict[str, Any]) -> ModelResponse:
        name = self.agent.name
        async with aclosing(self.agent.model.stream(self.messages, **kwargs)) as events:
            async for event in events:
                match event:
                    case TextDelta():
                        await self.emit(TextChunk(agent=name, text=event.text))
                    case ReasoningDelta():
                        await self.emit(ReasoningChunk(agent=name, text=event.text))
                    case ToolCallDelta():
                        await self.emit(ToolCallRequested(agent=name, call=event.call))
                    case ResponseDone():
                        return event.response
        raise AssertionError("a model stream always ends with ResponseDone")

    async def _after_response(self, response: ModelResponse, box: ToolBox, plan: OutputPlan) -> Any:
        calls = list(response.tool_calls)
        final = next((c for c in calls if c.name == FINAL_TOOL), None) if plan.final_tool else None
        if final is not None:
            return self._final(response, final.arguments, plan, call=final)
        if not calls and not response.malformed_tool_calls:
            return self._final(response, response.text, plan, call=None)
        recorded = [
            *calls,
            *(
                ToolCall(id=m.id, name=m.name or "invalid", arguments={})
                for m in response.malformed_tool_calls
            ),
        ]
        self.messages.append(AssistantMessage(content=response.text, tool_calls=tuple(recorded)))
        results = await run_calls(
            calls,
            box,
            self.context,
            agent=self.agent.name,
            default_timeout=self.agent.tool_timeout,
            approve=self.approve,
            emit=self.emit,
            journal=self.journal,
        )
        results += [malformed_result(m, box) for m in response.malformed_tool_calls]
        for call, result in zip(recorded, results, strict=True):
            self.messages.append(
                ToolResultMessage(
                    tool_call_id=call.id,
                    name=call.name,
                    content=result.content,
                    is_error=result.is_error,
                )
            )
        self._count_invalid(results)
        return _CONTINUE

    def _count_invalid(self, results: list[ToolResult]) -> None:
        self.invalid_calls += sum(1 for r in results if r.invalid_arguments)
        budget = self.agent.max_invalid_tool_calls
        if self.invalid_calls > budget:
            last = next(r for r in reversed(results) if r.invalid_arguments)
            raise ToolRetriesExhausted(
                f"Agent {self.agent.name!r} made {self.invalid_calls} invalid tool calls "
                f"(budget {budget}); the last error was: {last.content} "
                "Describe the tools better in the instructions, use a stronger model, or "
                "raise max_invalid_tool_calls.",
                agent=self.agent.name,
                messages=self.messages,
            )

    def _final(
        self,
        response: ModelResponse,
        data: str | dict[str, Any],
        plan: OutputPlan,
        *,
        call: ToolCall | None,
    ) -> Any:
        if plan.output_type is None:
            self.messages.append(AssistantMessage(content=response.text))
            return response.text
        result = validate_output(plan.output_type, data)
        if call is not None:
            self.messages.append(AssistantMessage(content=response.text, tool_calls=(call,)))
        else:
            self.messages.append(AssistantMessage(content=response.text))
        if not isinstance(result, str):
            if call is not None:
                self.messages.append(
                    ToolResultMessage(tool_call_id=call.id, name=FINAL_TOOL, content="accepted")
                )
            return result
        return self._retry_output(result, call, data)

    def _retry_output(self, feedback: str, call: ToolCall | None, data: object) -> Any:
        self.output_retries += 1
        if self.output_retries > self.agent.output_retries:
            shown = data if isinstance(data, str) else json.dumps(data)
            wanted = _type_name(self.agent.output_type)
            raise OutputValidationError(
                f"Agent {self.agent.name!r} gave no valid {wanted} after "
                f"{self.output_retries} tries. Last answer: {shown[:300]!r}. {feedback}",
                agent=self.agent.name,
                messages=self.messages,
            )
        if call is not None:
            self.messages.append(
                ToolResultMessage(
                    tool_call_id=call.id, name=FINAL_TOOL, content=feedback, is_error=True
                )
            )
        else:
            self.messages.append(UserMessage(content=feedback))
        return _CONTINUE


class _Continue:
    """Marker: the run goes on to another turn."""


_CONTINUE: Any = _Continue()


def _type_name(output_type: object) -> str:
    """`Routing` rather than `<class 'covey.agents._patterns.Routing'>`."""
    return getattr(output_type, "__name__", None) or repr(output_type)
