"""Conversation memory: a run's messages kept within a token budget by compaction.

When the conversation grows past the budget, its older turns are summarised by a model and
the summary joins the instructions, at their end; a run continued from these messages (a
later `history=`, a reflection revision) gets its own instructions but keeps the summary.
A turn is a user message, or an assistant message together with the results of the tool
calls it made: a tool call is never separated from its result. The instructions and the
latest turns are always kept as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .._errors import UsageError
from ..models import (
    AssistantMessage,
    Message,
    ModelClient,
    ModelSettings,
    SystemMessage,
    Tokenizer,
    ToolResultMessage,
    UserMessage,
)

__all__ = ["Compaction", "ContextBudget", "summary_of", "turns_of", "with_summary"]

SUMMARY_HEADING = "Summary of the conversation so far:\n"
"""Starts the summary, which is always the last part of the instructions' system message."""
_MARGIN = 16
"""Tokens kept free for the summary's marker and template overhead."""

_SUMMARIZE = (
    "Summarise the conversation below for the assistant that continues it. Keep every fact, "
    "number, name, decision and tool result it may need later, and what is still to do. "
    "Write plain sentences, no preamble."
)


def turns_of(messages: Sequence[Message]) -> list[list[Message]]:
    """Group messages into turns; an assistant message keeps its tool results with it."""
    turns: list[list[Message]] = []
    for message in messages:
        if isinstance(message, ToolResultMessage) and turns:
            opener = turns[-1][0]
            if isinstance(opener, AssistantMessage) and opener.tool_calls:
                turns[-1].append(message)
                continue
        turns.append([message])
    return turns


def summary_of(messages: Sequence[Message]) -> str:
    """The compaction summary carried by a conversation's system message ('' if none).

    A run continued from `RunResult.messages` (a later run's `history`, or a revision after
    reflection) gets its own fresh instructions, but keeps the summary of the turns that
    compaction removed: without it those turns would be lost altogether.
    """
    for message in messages:
        if isinstance(message, SystemMessage) and SUMMARY_HEADING in message.content:
            return message.content.split(SUMMARY_HEADING, 1)[1]
    return ""


def with_summary(instructions: str, summary: str) -> str:
    """The instructions with a compaction summary after them (unchanged without one)."""
    base = instructions.split(SUMMARY_HEADING, 1)[0].rstrip()
    if not summary:
        return base
    return f"{base}\n\n{SUMMARY_HEADING}{summary}" if base else SUMMARY_HEADING + summary


def _render(turns: Sequence[Sequence[Message]]) -> str:
    lines: list[str] = []
    for turn in turns:
        for message in turn:
            if isinstance(message, UserMessage):
                lines.append(f"User: {message.content}")
            elif isinstance(message, AssistantMessage):
                calls = ", ".join(f"{c.name}({c.arguments})" for c in message.tool_calls)
                text = message.content + (f" [called {calls}]" if calls else "")
                lines.append(f"Assistant: {text.strip()}")
            elif isinstance(message, ToolResultMessage):
                lines.append(f"Tool {message.name} returned: {message.content}")
            else:
                lines.append(f"System: {message.content}")
    return "\n".join(lines)


@dataclass(kw_only=True, slots=True, frozen=True)
class Compaction:
    """What one compaction did."""

    tokens_before: int
    tokens_after: int
    summarized_messages: int
    """Messages replaced by the summary."""


@dataclass(kw_only=True)
class ContextBudget:
    """Keeps an agent's conversation within `max_tokens` by summarising older turns.

    Give it to an agent (`Agent(..., context=ContextBudget(max_tokens=6000))`); before each
    model call the conversation is measured with the server's tokenizer (or a calibrated
    estimate) and compacted when over budget.

    Example:
        ```python
        budget = ContextBudget(max_tokens=4000, keep_turns=4)
        messages, done = await budget.fit(messages, model)
        ```
    """

    max_tokens: int
    """Most tokens the messages may take in a prompt."""
    keep_turns: int = 2
    """Latest turns always kept as they are (fewer only when they alone exceed the budget)."""
    target: float = 0.6
    """After compacting, aim for this share of `max_tokens`, so compaction is rare."""
    summarizer: ModelClient | None = None
    """Writes the summaries (default: the agent's model)."""
    summary_tokens: int = 400
    """Longest summary to ask for."""
    _tokenizers: dict[int, Tokenizer] = field(default_factory=dict[int, Tokenizer], repr=False)

    def __post_init__(self) -> None:
        if self.max_tokens < 64:
            raise UsageError(
                f"ContextBudget max_tokens must be at least 64, got {self.max_tokens}."
            )
        if not 0 < self.target <= 1:
            raise UsageError(f"ContextBudget target must be in (0, 1], got {self.target}.")

    def tokenizer(self, model: ModelClient) -> Tokenizer:
        """The tokenizer of `model`'s server (one per client, reused)."""
        found = self._tokenizers.get(id(model))
        if found is None:
            found = self._tokenizers[id(model)] = Tokenizer(model)
        return found

    async def fit(
        self, messages: Sequence[Message], model: ModelClient
    ) -> tuple[list[Message], Compaction | None]:
        """The messages within budget, and what was compacted (None when nothing was)."""
        tokens = self.tokenizer(model)
        before = await tokens.count_messages(messages)
        if before <= self.max_tokens:
            return list(messages), None
        head = list(messages[: _head_length(messages)])
        turns = turns_of(messages[len(head) :])
        keep = await self._kept(head, turns, tokens)
        older = turns[: len(turns) - keep]
        if not older:
            return list(messages), None
        summary = await self._summarize(head, older, model)
        merged = SystemMessage(content=with_summary(head[0].content if head else "", summary))
        result: list[Message] = [merged, *head[1:]]
        for turn in turns[len(older) :]:
            result.extend(turn)
        after = await tokens.count_messages(result)
        count = sum(len(t) for t in older)
        return result, Compaction(
            tokens_before=before, tokens_after=after, summarized_messages=count
        )

    async def _kept(
        self, head: list[Message], turns: list[list[Message]], tokens: Tokenizer
    ) -> int:
        """How many latest turns stay beside the instructions and the summary.

        The latest turn always stays; more stay while they fit the target share of the
        budget, and up to `keep_turns` while they fit the budget itself.
        """
        fixed = await tokens.count_messages(head) + self.summary_tokens + _MARGIN
        target, budget = int(self.max_tokens * self.target) - fixed, self.max_tokens - fixed
        keep, used = 0, 0
        for turn in reversed(turns):
            total = used + await tokens.count_messages(turn)
            if keep and total > target and not (keep < self.keep_turns and total <= budget):
                break
            used, keep = total, keep + 1
        return keep

    async def _summarize(
        self, head: list[Message], older: list[list[Message]], model: ModelClient
    ) -> str:
        before = summary_of(head)
        earlier = f"Earlier summary: {before}\n" if before else ""
        request: list[Message] = [
            SystemMessage(content=_SUMMARIZE),
            UserMessage(content=earlier + _render(older)),
        ]
        settings = ModelSettings(max_tokens=self.summary_tokens, temperature=0.0)
        response = await (self.summarizer or model).complete(request, settings=settings)
        return response.text.strip() or "(no summary)"


def _head_length(messages: Sequence[Message]) -> int:
    """Leading system messages: the instructions, never compacted."""
    count = 0
    for message in messages:
        if not isinstance(message, SystemMessage):
            break
        count += 1
    return count
