"""Every example runs, here against the scripted model server (the embedded model is the
default when no server is configured; its smoke suite is in tests/models/test_embedded.py)."""

from __future__ import annotations

import pytest

from covey.agents import Critique
from covey.models import ToolCall
from covey.testing import ChatRequest, Reply, ScriptedModelServer
from examples import agent_tools, memory_reflection, quickstart


def arithmetic(request: ChatRequest) -> Reply:
    if any(m["role"] == "tool" for m in request.messages):
        result = [m for m in request.messages if m["role"] == "tool"][-1]["content"]
        return Reply(text=f"17 times 23 is {result}.")
    return Reply(tool_calls=[ToolCall(id="c1", name="multiply", arguments={"a": 17, "b": 23})])


async def test_quickstart(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with ScriptedModelServer(policy=arithmetic) as server:
        monkeypatch.setenv("COVEY_BASE_URL", server.base_url)
        await quickstart.main()
    out = capsys.readouterr().out
    assert "model asked for: [('multiply', {'a': 17, 'b': 23})]" in out
    assert "tool multiply returned: 391" in out
    assert "answer: 17 times 23 is 391." in out


def two_tools(request: ChatRequest) -> Reply:
    results = [m["content"] for m in request.messages if m["role"] == "tool"]
    if not results:
        return Reply(
            tool_calls=[
                ToolCall(id="w", name="word_count", arguments={"text": "the quick brown fox"})
            ]
        )
    if len(results) == 1:
        expression = f"{results[0]} * 10"
        return Reply(
            tool_calls=[ToolCall(id="c", name="calculate", arguments={"expression": expression})]
        )
    return Reply(text=f"The answer is {results[-1]}.")


async def test_agent_tools(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with ScriptedModelServer(policy=two_tools) as server:
        monkeypatch.setenv("COVEY_BASE_URL", server.base_url)
        await agent_tools.main()
    out = capsys.readouterr().out
    assert "tool word_count -> 4" in out
    assert "tool calculate -> 40" in out
    assert "answer: 'The answer is 40.'" in out


def remembering(request: ChatRequest) -> Reply:
    """Each agent of examples/memory_reflection.py, told apart by its instructions."""
    system = request.messages[0]["content"]
    if system.startswith("You review answers"):
        draft = request.messages[-1]["content"].split("Answer to check:\n", 1)[1]
        ok = "teal" in draft
        failed = [] if ok else ["Names Ada's favourite colour"]
        return Reply(text=Critique(passed=ok, failed_criteria=failed).model_dump_json())
    if system.startswith("You write lessons"):
        return Reply(text="The Friday review is in Room 4: answer that.")
    if system.startswith(memory_reflection.OFFICE):
        return Reply(text="Room 4." if "Room 4" in system else "Room 2.")
    if system.startswith(memory_reflection.WRITER):
        if request.last_user_text.startswith("A reviewer") and "teal" in system:
            return Reply(text="Ada's favourite colour is teal.")
        return Reply(text="Ada has good taste.")
    if request.last_user_text.startswith("Note:"):
        if request.last_tool_result is not None:
            return Reply(text="Noted.")
        fact = request.last_user_text.removeprefix("Note:").strip()
        return Reply(tool_calls=[ToolCall(id="r", name="remember", arguments={"fact": fact})])
    return Reply(text="Teal." if "teal" in system else "I do not know.")


async def test_memory_reflection(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with ScriptedModelServer(policy=remembering) as server:
        monkeypatch.setenv("COVEY_BASE_URL", server.base_url)
        await memory_reflection.main()
    out = capsys.readouterr().out.splitlines()
    assert out == [
        'remembered: ["Ada\'s favourite colour is teal."]',
        "a later run answers: Teal.",
        'critique 1: passed=False failed=["Names Ada\'s favourite colour"]',
        "critique 2: passed=True failed=[]",
        "after reflection: Ada's favourite colour is teal.",
        "first try: Room 2.",
        "lesson: The Friday review is in Room 4: answer that.",
        "with the lesson: Room 4.",
    ]
