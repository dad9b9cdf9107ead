"""A model answers a question with the help of a tool.

Run it from the repository root: `python -m examples.quickstart`. With no model server
configured (COVEY_BASE_URL unset) covey starts its embedded llama.cpp model; set
COVEY_BASE_URL and COVEY_MODEL to use vLLM, Ollama, LM Studio or any other
OpenAI-compatible server instead.
"""

from __future__ import annotations

from covey import (
    AssistantMessage,
    Message,
    ModelClient,
    ModelSettings,
    SystemMessage,
    ToolDefinition,
    ToolResultMessage,
    UserMessage,
    open_model,
)
from examples._run import run

MULTIPLY = ToolDefinition(
    name="multiply",
    description="Multiply two integers and return the product.",
    parameters={
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
)


def multiply(a: int, b: int) -> int:
    """The tool's implementation."""
    return a * b


async def ask(model: ModelClient, question: str) -> str:
    """Ask `question`; the model must use the multiply tool once, then answer."""
    messages: list[Message] = [
        SystemMessage(content="You are a careful assistant. Use tools for arithmetic."),
        UserMessage(content=question),
    ]
    settings = ModelSettings(temperature=0.0, max_tokens=128)
    first = await model.complete(
        messages, tools=[MULTIPLY], tool_choice="multiply", settings=settings
    )
    print(f"model asked for: {[(c.name, c.arguments) for c in first.tool_calls]}")
    messages.append(AssistantMessage(content=first.text, tool_calls=first.tool_calls))
    for call in first.tool_calls:
        try:
            result = str(multiply(int(call.arguments["a"]), int(call.arguments["b"])))
        except (KeyError, TypeError, ValueError) as exc:
            result = f"error: {exc!r}; pass integers a and b"
        print(f"tool {call.name} returned: {result}")
        messages.append(ToolResultMessage(tool_call_id=call.id, name=call.name, content=result))
    final = await model.complete(messages, settings=settings)
    return final.text


async def main() -> None:
    """Answer one question and print what happened."""
    async with open_model() as model:
        print(f"model: {await model.model_name()} at {model.config.base_url}")
        answer = await ask(model, "What is 17 times 23?")
        # The embedded 270M model proves the path; it often has nothing to add after a tool.
        print(f"answer: {answer.strip() or '(the model wrote no text after the tool result)'}")


if __name__ == "__main__":
    run(main)
