"""The agent on the embedded llama.cpp model: a function tool and an MCP tool called for real."""

from __future__ import annotations

import sys

from covey import ModelClient, ModelSettings
from covey.agents import Agent, ToolFinished
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
