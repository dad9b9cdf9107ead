"""`covey.models.parse_tool_calls`: the dialect parser for text that did not come through
the client, as the README shows it."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from covey import UsageError
from covey.models import ToolDefinition, parse_tool_calls

README = Path(__file__).parents[2] / "README.md"
ADD = ToolDefinition(name="add", description="Add.", parameters={"type": "object"})


def test_the_readme_snippet_runs() -> None:
    blocks = re.findall(r"^( *)```python\n(.*?)^\1```", README.read_text(), re.DOTALL | re.M)
    (snippet,) = [code for indent, code in blocks if "parse_tool_calls(" in code]
    exec(textwrap.dedent(snippet), {})  # its asserts are the check


@pytest.mark.parametrize(
    "tools",
    [[ADD], ["add"], [{"type": "function", "function": {"name": "add"}}], [{"name": "add"}]],
)
def test_the_offered_tools_decide_whether_a_whole_message_json_is_a_call(
    tools: list[ToolDefinition | str | dict[str, object]],
) -> None:
    text = '{"name": "add", "parameters": {"a": 1, "b": 2}}'  # Llama 3's whole-message call
    (call,) = parse_tool_calls(text, tools).tool_calls
    assert (call.name, call.arguments, call.dialect) == ("add", {"a": 1, "b": 2}, "llama3")
    other = parse_tool_calls('{"name": "mul", "parameters": {"a": 1}}', tools)
    assert other.tool_calls == [] and other.text.startswith('{"name": "mul"')


def test_reasoning_mistral_calls_and_a_broken_call_are_told_apart() -> None:
    text = '<think>Add them.</think>OK[TOOL_CALLS] [{"name": "add", "arguments": {"a": 1}}]'
    parsed = parse_tool_calls(text)
    assert (parsed.reasoning, parsed.text) == ("Add them.", "OK")
    assert [(c.name, c.dialect) for c in parsed.tool_calls] == [("add", "mistral")]
    broken = parse_tool_calls('<tool_call>{"name": "add", "arguments": {"a": </tool_call>', [ADD])
    assert broken.tool_calls == [] and broken.malformed[0].name == "add"


def test_a_tool_without_a_readable_name_is_a_clear_error() -> None:
    with pytest.raises(UsageError, match=r"Cannot read a tool name from \{'type': 'function'\}"):
        parse_tool_calls("hi", [{"type": "function"}])
