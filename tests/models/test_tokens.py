"""Counting tokens as the server does: its tokenizer endpoint, else a calibrated estimate."""

from __future__ import annotations

from covey import ModelClient, ModelConfig
from covey.models import AssistantMessage, Tokenizer, ToolCall, UserMessage
from covey.testing import ScriptedModelServer


def config(url: str) -> ModelConfig:
    return ModelConfig(base_url=url, model="scripted", max_retries=0)


async def test_a_server_with_a_tokenizer_counts_exactly() -> None:
    async with ScriptedModelServer() as server, ModelClient(config(server.base_url)) as model:
        tokens = Tokenizer(model)
        words = await tokens.count_text("one two three four five")
        call = ToolCall(id="c1", name="add", arguments={"a": 1})
        messages = [UserMessage(content="add one"), AssistantMessage(tool_calls=(call,))]
        in_messages = await tokens.count_messages(messages)
    assert tokens.method == "llama.cpp" and words == 5
    assert in_messages > 2 + 2 * 4  # the call's JSON counts, and each message's overhead
    assert server.requests == []  # no chat request was spent on counting


async def test_without_a_tokenizer_the_estimate_is_calibrated_on_the_servers_usage() -> None:
    async with (
        ScriptedModelServer(tokenizer=False) as server,
        ModelClient(config(server.base_url)) as model,
    ):
        tokens = Tokenizer(model)
        text = "alpha beta gamma delta " * 50  # 200 words: the scripted usage counts words
        estimate = await tokens.count_text(text)
    assert tokens.method == "estimate"
    assert len(server.probe_requests) == 2  # two one-token requests calibrated it
    assert 150 <= estimate <= 260  # words of ~5 characters, calibrated on ~6-character words
    assert tokens.chars_per_token > 4.0
