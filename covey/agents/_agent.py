"""The agent: a model, instructions, tools and an optional output type."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Generic

import pydantic
from typing_extensions import TypeVar

from .._errors import CoveyError, RunError, UsageError
from ..models import (
    Message,
    ModelClient,
    ModelSettings,
    SystemMessage,
    ToolChoice,
    Usage,
    UserMessage,
)
from ..tools import RunContext, Tool, ToolEvent, ToolEventSink, Toolset
from ..tracing._genai import agent_span, record_usage
from ._context import ContextBudget, summary_of, with_summary
from ._events import AgentEvent, ErrorOccurred, RunFinished, RunStarted
from ._lessons import Lessons, lessons_section
from ._memory import memories_section, memory_tools
from ._output import OutputPlan, plan_output
from ._reflection import Reflection, reflect
from ._run import AgentRun
from ._stream import EventStream
from ._toolbox import Approval, ToolJournal, ToolSource, as_sources

if TYPE_CHECKING:
    from ..store import LongTermMemory

__all__ = ["Agent", "RunResult", "AgentStream"]

OutputT = TypeVar("OutputT", default=str)


@dataclass(kw_only=True, slots=True, frozen=True)
class RunResult(Generic[OutputT]):
    """What a finished run produced."""

    output: OutputT
    """The final answer: text, or an instance of the agent's output type."""
    messages: tuple[Message, ...]
    """The whole conversation, to continue it or to inspect it."""
    usage: Usage
    """Token usage summed over every model call of the run."""
    run_id: str
    """The run's id."""


AgentStream = EventStream[AgentEvent | ToolEvent, "RunResult[OutputT]"]
"""The events of one agent run, read in an `async with` block."""


class Agent(Generic[OutputT]):
    """A model with instructions and tools, run in a loop until it answers.

    Example:
        ```python
        @tool
        def add(a: int, b: int) -> int:
            '''Add two integers.'''
            return a + b

        agent = Agent("calc", model, "Use tools for arithmetic.", tools=[add])
        result = await agent.run("What is 2 + 40?")
        ```
    """

    def __init__(
        self,
        name: str,
        model: ModelClient,
        instructions: str = "",
        *,
        tools: Sequence[ToolSource] = (),
        output_type: type[OutputT] | None = None,
        max_turns: int = 10,
        tool_timeout: float = 60.0,
        max_invalid_tool_calls: int = 3,
        output_retries: int = 2,
        approve: Approval | None = None,
        settings: ModelSettings | None = None,
        tool_choice: ToolChoice | Callable[[int], ToolChoice] = "auto",
        context: ContextBudget | None = None,
        reflection: Reflection | None = None,
        memory: LongTermMemory | None = None,
        recall_into_prompt: int = 0,
        lessons: Lessons | None = None,
    ) -> None:
        """Create an agent.

        Args:
            name: short name, shown in events and errors.
            model: the model client (share one per endpoint between agents).
            instructions: the system prompt.
            tools: functions, `Tool`s and `Toolset`s (MCP servers).
            output_type: a pydantic model the answer must be an instance of.
            max_turns: model calls allowed per run before `MaxTurnsExceeded`.
            tool_timeout: default seconds a tool call may take.
            max_invalid_tool_calls: invalid tool calls (bad arguments, unknown tools,
                malformed calls) tolerated per run before `ToolRetriesExhausted`.
            output_retries: extra tries for an answer that does not validate.
            approve: decides calls to tools that require approval.
            settings: sampling settings for every model call.
            tool_choice: `auto`, `none`, `required`, a tool name, or a function of the turn
                number giving one of those (e.g. force a tool on turn 1 for small models).
            context: keeps the conversation within a token budget by summarising older
                turns (never splitting a tool call from its result).
            reflection: critique-and-revise: a critic checks each final answer against
                criteria and the agent revises until they pass or a round limit.
            memory: long-term memory; the agent gets `remember` and `recall` tools over it.
            recall_into_prompt: also put this many memories most relevant to each task in
                the instructions before the run (0: none).
            lessons: lessons from earlier failures: the most relevant to each task are put
                in the instructions, and `learn()` writes new ones.
        """
        if max_turns < 1:
            raise UsageError(f"Agent {name!r}: max_turns must be at least 1, got {max_turns}.")
        if output_type is not None and not (
            inspect.isclass(output_type) and issubclass(output_type, pydantic.BaseModel)
        ):
            raise UsageError(
                f"Agent {name!r}: output_type must be a pydantic BaseModel subclass, "
                f"got {output_type!r}."
            )
        self.name = name
        self.model = model
        self.instructions = instructions
        self.tool_sources: list[Tool | Toolset] = as_sources(tools)
        self.output_type = output_type
        self.max_turns = max_turns
        self.tool_timeout = tool_timeout
        self.max_invalid_tool_calls = max_invalid_tool_calls
        self.output_retries = output_retries
        self.approve = approve
        self.settings = settings
        self.tool_choice = tool_choice
        self.context = context
        self.reflection = reflection
        self.memory = memory
        self.recall_into_prompt = recall_into_prompt
        self.lessons = lessons
        if memory is not None:
            self.tool_sources.extend(memory_tools(memory))
        elif recall_into_prompt:
            raise UsageError(
                f"Agent {name!r}: recall_into_prompt needs memory=LongTermMemory(...)."
            )

    def output_plan(self, *, has_tools: bool, native_tools: bool) -> OutputPlan:
        """How this agent gets structured output from a server like this one."""
        output_type: Any = self.output_type
        return plan_output(output_type, has_tools=has_tools, native_tools=native_tools)

    def _start(
        self,
        prompt: str | Sequence[Message],
        history: Sequence[Message],
        deps: object,
        sink: ToolEventSink | None,
        instructions: str,
    ) -> tuple[list[Message], RunContext[Any]]:
        messages: list[Message] = []
        # The history's instructions give way to this run's, but its compaction summary
        # stays: it is all that is left of the turns compaction removed.
        system = with_summary(instructions, summary_of(history))
        if system:
            messages.append(SystemMessage(content=system))
        messages.extend(m for m in history if not isinstance(m, SystemMessage))
        if isinstance(prompt, str):
            messages.append(UserMessage(content=prompt))
        else:
            messages.extend(prompt)
        run_id = uuid.uuid4().hex
        context = RunContext(
            deps=deps, agent=self.name, run_id=run_id, on_event=sink, model=self.model
        )
        return messages, context

    async def _instructions_for(self, task: str) -> str:
        """The instructions, with the memories and lessons most relevant to the task."""
        parts = [self.instructions]
        if self.memory is not None and self.recall_into_prompt:
            parts.append(await memories_section(self.memory, task, self.recall_into_prompt))
        if self.lessons is not None:
            parts.append(lessons_section(await self.lessons.relevant(task)))
        return "\n\n".join(part for part in parts if part)

    async def _execute(
        self,
        prompt: str | Sequence[Message],
        *,
        history: Sequence[Message],
        deps: object,
        emit: Any,
        sink: ToolEventSink | None,
        stream_model: bool,
        approve: Approval | None = None,
        journal: ToolJournal | None = None,
    ) -> RunResult[OutputT]:
        # Revisions recall for the task itself, not for the reviewer's feedback.
        task = prompt if isinstance(prompt, str) else _last_user_text(prompt)
        once = partial(
            self._once,
            task=task,
            deps=deps,
            emit=emit,
            sink=sink,
            stream_model=stream_model,
            approve=approve,
            journal=journal,
        )
        config = self.model.config
        with agent_span(self.name, config.model, config.base_url) as span:
            first: RunResult[OutputT] = await once(prompt, history=history)
            usage = first.usage
            if self.reflection is None:
                record_usage(span, usage.input_tokens, usage.output_tokens)
                return first

            async def rerun(again: str, before: Sequence[Message]) -> RunResult[Any]:
                nonlocal usage
                result = await once(again, history=before)
                usage = usage + result.usage
                return result

            revised: RunResult[OutputT] = await reflect(self, task, first, rerun, emit)
            record_usage(span, usage.input_tokens, usage.output_tokens)
            return revised

    async def _once(
        self,
        prompt: str | Sequence[Message],
        *,
        task: str,
        history: Sequence[Message],
        deps: object,
        emit: Any,
        sink: ToolEventSink | None,
        stream_model: bool,
        approve: Approval | None = None,
        journal: ToolJournal | None = None,
    ) -> RunResult[OutputT]:
        instructions = await self._instructions_for(task)
        messages, context = self._start(prompt, history, deps, sink, instructions)
        await emit(RunStarted(agent=self.name, run_id=context.run_id))
        run = AgentRun(
            agent=self,
            messages=messages,
            context=context,
            emit=emit,
            stream_model=stream_model,
            approve=approve if approve is not None else self.approve,
            journal=journal,
        )
        try:
            output = await run.execute()
        except CoveyError as exc:
            await emit(ErrorOccurred(agent=self.name, error=str(exc)))
            raise
        await emit(RunFinished(agent=self.name, output=output, usage=run.usage))
        return RunResult(
            output=output, messages=tuple(messages), usage=run.usage, run_id=context.run_id
        )

    async def run(
        self,
        prompt: str | Sequence[Message],
        *,
        history: Sequence[Message] = (),
        deps: object = None,
        on_event: Callable[[AgentEvent | ToolEvent], Awaitable[None]] | None = None,
        approve: Approval | None = None,
        journal: ToolJournal | None = None,
    ) -> RunResult[OutputT]:
        """Run to a final answer.

        Args:
            prompt: the user's message, or messages.
            history: earlier conversation to continue (system messages are replaced by
                this agent's instructions; a compaction summary in them is kept).
            deps: dependencies handed to tools through `RunContext.deps`.
            on_event: awaited with every event of the run (see `stream()` for a stream).
            approve: decides this run's calls to tools that require approval (default: the
                agent's `approve`).
            journal: keeps the run's completed tool calls so that running the same task
                again replays their results instead of calling the tools (a graph's agent
                node passes one).

        Raises:
            RunError: the run could not finish (`MaxTurnsExceeded`, `ToolRetriesExhausted`,
                `OutputValidationError`).
            ModelError: the model server failed after retries.
        """
        progress: list[ToolEvent] = []

        async def forward(event: AgentEvent) -> None:
            if on_event is None:
                return
            while progress:
                await on_event(progress.pop(0))
            await on_event(event)

        return await self._execute(
            prompt,
            history=history,
            deps=deps,
            emit=forward,
            sink=progress.append if on_event is not None else None,
            stream_model=False,
            approve=approve,
            journal=journal,
        )

    def stream(
        self,
        prompt: str | Sequence[Message],
        *,
        history: Sequence[Message] = (),
        deps: object = None,
    ) -> AgentStream[OutputT]:
        """Run, streaming every event: `async with agent.stream(...) as events:`.

        The run happens in a task that the `async with` block owns, so leaving the block
        early cancels the run cleanly; `events.result` holds the result once it ends.
        """
        return EventStream(
            lambda emit, sink: self._execute(
                prompt, history=history, deps=deps, emit=emit, sink=sink, stream_model=True
            )
        )

    async def learn(
        self, task: str, result: RunResult[Any] | RunError | None, feedback: str
    ) -> str:
        """After a failed task, have the model write a lesson that later runs will get.

        The lesson (what went wrong, what to do next time) is kept in `lessons`; runs of
        similar tasks, by this agent or any agent sharing the namespace, find it in their
        instructions.

        Args:
            task: what the agent was asked.
            result: the failed run's result, or the `RunError` it raised (None: neither).
            feedback: why it failed, as the caller (a person, a test, a scorer) sees it.

        Returns:
            The lesson.

        Raises:
            UsageError: the agent has no `lessons`.
        """
        if self.lessons is None:
            raise UsageError(
                f"Agent {self.name!r} has no lessons to learn into: pass "
                "lessons=Lessons(store, 'lessons:...') to Agent()."
            )
        return await self.lessons.learn(self.model, task, result, feedback)

    def __repr__(self) -> str:
        return f"Agent({self.name!r})"


def _last_user_text(messages: Sequence[Message]) -> str:
    for message in reversed(messages):
        if isinstance(message, UserMessage):
            return message.content
    return ""
