"""An agent with a Python function tool and an MCP server's tools, streaming what it does.

Run from the repository root: `python -m examples.agent_tools`. Uses COVEY_BASE_URL /
COVEY_MODEL when set, else the embedded model.
"""

from __future__ import annotations

import sys

from covey import open_model
from covey.agents import Agent, ModelResponded, RunFinished, ToolFinished
from covey.tools import MCPToolset, tool
from examples._run import run


@tool
def word_count(text: str) -> int:
    """Count the words in a text.

    Args:
        text: the text to count.
    """
    return len(text.split())


async def main() -> None:
    """Ask a question that needs both tools, and print the events as they happen."""
    calc = MCPToolset.stdio(sys.executable, ["-m", "covey.servers.calc"], name="calc")
    async with open_model() as model, calc:
        agent = Agent(
            "assistant",
            model,
            "Use the tools: word_count counts words, calculate does arithmetic.",
            tools=[word_count, calc],
            max_turns=4,
        )
        question = "How many words are in 'the quick brown fox', times 10?"
        async with agent.stream(question) as events:
            async for event in events:
                if isinstance(event, ModelResponded):
                    calls = [(c.name, c.arguments) for c in event.response.tool_calls]
                    print(f"model (turn {event.turn}): {event.response.text!r} calls={calls}")
                elif isinstance(event, ToolFinished):
                    print(f"tool {event.call.name} -> {event.result.content}")
                elif isinstance(event, RunFinished):
                    answer = repr(event.output) if event.output else "(the model wrote no answer)"
                    print(f"answer: {answer} ({event.usage.total_tokens} tokens)")


if __name__ == "__main__":
    run(main)
