"""Every example runs, here against the scripted model server (the embedded model is the
default when no server is configured; its smoke suite is in tests/models/test_embedded.py)."""

from __future__ import annotations

import pytest

from covey.models import ToolCall
from covey.testing import ChatRequest, Reply, ScriptedModelServer
from examples import agent_tools, quickstart


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
