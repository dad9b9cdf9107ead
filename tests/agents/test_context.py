"""Conversation memory: compaction keeps the budget and never splits a call from its result."""

from __future__ import annotations

import random

import pytest

from covey import ModelClient, ModelConfig, UsageError
from covey.agents import Agent, ContextBudget, ContextCompacted
from covey.models import (
    AssistantMessage,
    Message,
    SystemMessage,
    Tokenizer,
    ToolCall,
    ToolResultMessage,
    UserMessage,
)
from covey.testing import ChatRequest, Reply, ScriptedModelServer
from covey.tools import tool

INSTRUCTIONS = "You are a patient bookkeeper."


def config(url: str) -> ModelConfig:
    return ModelConfig(base_url=url, model="scripted", max_retries=0)


def summarizer(request: ChatRequest) -> Reply:
    return Reply(text="Earlier: the user asked for sums; results were recorded.")


def conversation(rng: random.Random, turns: int) -> list[Message]:
    messages: list[Message] = [SystemMessage(content=INSTRUCTIONS)]
    for number in range(turns):
        messages.append(UserMessage(content=f"question {number} " + "word " * rng.randrange(5, 40)))
        calls = tuple(
            ToolCall(id=f"c{number}-{k}", name="add", arguments={"a": k, "b": number})
            for k in range(rng.randrange(0, 3))
        )
        messages.append(
            AssistantMessage(content="let me see " * rng.randrange(1, 5), tool_calls=calls)
        )
        for call in calls:
            text = "result " * rng.randrange(1, 30)
            messages.append(ToolResultMessage(tool_call_id=call.id, name="add", content=text))
        if calls:
            messages.append(AssistantMessage(content=f"answer {number}"))
    return messages


def calls_and_results_together(messages: list[Message]) -> bool:
    called = {c.id for m in messages if isinstance(m, AssistantMessage) for c in m.tool_calls}
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolResultMessage)}
    return called == answered


async def test_compaction_keeps_the_budget_and_every_call_with_its_result() -> None:
    rng = random.Random(5)
    async with ScriptedModelServer(policy=summarizer) as server:
        async with ModelClient(config(server.base_url)) as model:
            tokens = Tokenizer(model)
            for trial in range(25):
                budget = ContextBudget(max_tokens=rng.randrange(300, 600), summary_tokens=60)
                messages = conversation(rng, turns=rng.randrange(12, 24))
                assert await tokens.count_messages(messages) > budget.max_tokens
                fitted, done = await budget.fit(messages, model)
                size = await tokens.count_messages(fitted)
                assert done is not None, trial
                assert size <= budget.max_tokens, (trial, size, budget.max_tokens)
                assert calls_and_results_together(fitted), trial
                assert isinstance(fitted[0], SystemMessage)
                assert fitted[0].content.startswith(INSTRUCTIONS)
                assert "Earlier: the user asked for sums" in fitted[0].content
                assert fitted[-1] == messages[-1]  # the latest turn is kept as it was
                assert done.tokens_after == size < done.tokens_before
        summarized = server.requests[0].messages[-1]["content"]
    assert "Tool add returned" in summarized and "User: question 0" in summarized


async def test_a_conversation_within_budget_is_left_alone() -> None:
    async with ScriptedModelServer(policy=summarizer) as server:
        async with ModelClient(config(server.base_url)) as model:
            messages = conversation(random.Random(1), turns=2)
            fitted, done = await ContextBudget(max_tokens=5000).fit(messages, model)
    assert done is None and fitted == messages and server.requests == []


def test_a_budget_too_small_to_hold_anything_is_refused() -> None:
    with pytest.raises(UsageError, match="at least 64"):
        ContextBudget(max_tokens=10)


async def test_an_agent_with_a_budget_compacts_as_it_goes_and_still_answers() -> None:
    @tool
    def lookup(page: int) -> str:
        """Read a page of the ledger."""
        return f"page {page}: " + "entry " * 60

    turns: list[int] = []  # words in each request the agent made

    def policy(request: ChatRequest) -> Reply:
        if request.messages[0]["content"].startswith("Summarise"):
            return Reply(text="Pages 0 to 5 were read; all hold entries.")
        turns.append(sum(len(str(m.get("content") or "").split()) for m in request.messages))
        if len(turns) > 8:
            return Reply(text="The ledger has 8 pages.")
        page = len(turns) - 1
        return Reply(tool_calls=[ToolCall(id=f"c{page}", name="lookup", arguments={"page": page})])

    events: list[ContextCompacted] = []

    async def keep(event: object) -> None:
        if isinstance(event, ContextCompacted):
            events.append(event)

    async with ScriptedModelServer(policy=policy) as server:
        async with ModelClient(config(server.base_url)) as model:
            budget = ContextBudget(max_tokens=400, summary_tokens=40)
            agent = Agent(
                "bookkeeper", model, INSTRUCTIONS, tools=[lookup], max_turns=12, context=budget
            )
            result = await agent.run("How many pages does the ledger have?", on_event=keep)
    assert result.output == "The ledger has 8 pages."
    assert events and all(e.tokens_after < e.tokens_before for e in events)
    assert max(turns) <= 400  # no request the model saw was over budget
    assert len(server.requests) == 9 + len(events)  # the summaries were written by the model


async def test_a_run_continued_from_a_compacted_conversation_keeps_its_summary() -> None:
    @tool
    def lookup(page: int) -> str:
        """Read a page of the ledger."""
        return f"page {page}: " + "entry " * 60

    pages: list[int] = []

    def policy(request: ChatRequest) -> Reply:
        if request.messages[0]["content"].startswith("Summarise"):
            return Reply(text="Page 3 holds the rent of 1200 euros.")
        if request.last_user_text.startswith("And the rent?"):
            return Reply(text="Rent: see the summary.")
        pages.append(len(pages))
        if len(pages) > 6:
            return Reply(text="Read them all.")
        page = pages[-1]
        return Reply(tool_calls=[ToolCall(id=f"c{page}", name="lookup", arguments={"page": page})])

    async with ScriptedModelServer(policy=policy) as server:
        async with ModelClient(config(server.base_url)) as model:
            budget = ContextBudget(max_tokens=400, summary_tokens=40)
            agent = Agent(
                "bookkeeper", model, INSTRUCTIONS, tools=[lookup], max_turns=12, context=budget
            )
            first = await agent.run("Read the ledger.")
            assert "Page 3 holds the rent" in str(first.messages[0])  # it was compacted
            await agent.run("And the rent?", history=first.messages)
        later = next(r for r in server.requests if r.last_user_text == "And the rent?")
    system = later.messages[0]["content"]
    assert system.startswith(INSTRUCTIONS)
    assert "Page 3 holds the rent of 1200 euros." in system
    assert [m["role"] for m in later.messages].count("system") == 1
