"""The agent on the embedded llama.cpp model: a function tool, an MCP tool and memory, for real."""

from __future__ import annotations

import sys
from pathlib import Path

from covey import ModelClient, ModelSettings, SystemMessage
from covey.agents import Agent, ToolFinished
from covey.store import LongTermMemory, Store
from covey.tools import MCPToolset, tool
from tests.embedded import MARKS, embedded_model
from tests.tools.conftest import FIXTURE_SERVER

pytestmark = MARKS
model = embedded_model
SETTINGS = ModelSettings(temperature=0.0, max_tokens=64)


async def test_a_function_tool_is_called_for_real(model: ModelClient) -> None:
    calls: list[str] = []

    @tool
    def get_weather(city: str) -> str:
        """Current weather for a city.

        Args:
            city: the city name.
        """
        calls.append(city)
        return f"sunny in {city}"

    agent = Agent(
        "weather",
        model,
        "Answer weather questions with the tool.",
        tools=[get_weather],
        settings=SETTINGS,
        tool_choice=lambda turn: "get_weather" if turn == 1 else "none",
    )
    events: list[ToolFinished] = []

    async def keep(event: object) -> None:
        if isinstance(event, ToolFinished):
            events.append(event)

    result = await agent.run("What is the weather in Paris?", on_event=keep)
    assert len(calls) == 1 and isinstance(calls[0], str)
    assert events[0].result.content == f"sunny in {calls[0]}"
    assert result.usage.requests == 2


async def test_an_mcp_tool_is_called_for_real(model: ModelClient) -> None:
    async with MCPToolset.stdio(sys.executable, [FIXTURE_SERVER], name="fixture") as tools:
        agent = Agent(
            "adder",
            model,
            "Use the add tool to add numbers.",
            tools=[tools],
            settings=SETTINGS,
            tool_choice=lambda turn: "add" if turn == 1 else "none",
        )
        finished: list[ToolFinished] = []

        async def keep(event: object) -> None:
            if isinstance(event, ToolFinished):
                finished.append(event)

        await agent.run("What is 2 plus 3?", on_event=keep)
    (done,) = finished
    assert done.call.name == "add"
    a, b = done.call.arguments["a"], done.call.arguments["b"]
    assert done.result.content == str(a + b)
    assert not done.result.is_error


async def test_a_fact_remembered_in_one_run_is_recalled_in_a_later_run(
    model: ModelClient, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'memory.db'}"
    remembered: list[ToolFinished] = []

    async def keep(event: object) -> None:
        if isinstance(event, ToolFinished):
            remembered.append(event)

    async with Store(url) as store:
        writer = Agent(
            "assistant",
            model,
            "Keep what the user tells you with the remember tool.",
            memory=LongTermMemory(store, "user:ada"),
            # Room for both arguments: the 270M model tends to fill `about` at length.
            settings=ModelSettings(temperature=0.0, max_tokens=256),
            tool_choice=lambda turn: "remember" if turn == 1 else "none",
        )
        await writer.run("Remember this: my favourite colour is teal.", on_event=keep)
    (done,) = remembered
    fact = done.call.arguments["fact"]
    assert isinstance(fact, str) and fact.strip() and not done.result.is_error

    # A later run: a new store connection and a new agent, as another process would have.
    async with Store(url) as store:
        memory = LongTermMemory(store, "user:ada")
        assert [m.text for m in await memory.recall(fact)] == [fact]
        reader = Agent(
            "assistant",
            model,
            "Answer from what you remember.",
            memory=memory,
            recall_into_prompt=3,
            settings=SETTINGS,
            tool_choice="none",
        )
        result = await reader.run(f"What do you remember about this: {fact}")
    instructions = result.messages[0]
    assert isinstance(instructions, SystemMessage) and fact in instructions.content
    assert result.usage.requests == 1
