"""Counting tokens as one model server does: its tokenizer, else a calibrated estimate.

Servers with a tokenizer endpoint: llama-cpp-python (`/extras/tokenize/count`), llama.cpp's
server (`/tokenize` with `content`), vLLM and SGLang (`/tokenize` with `prompt`). Others get
an estimate calibrated against the prompt token counts the server reports.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Literal

import anyio
import httpx2
import openai

from ._client import ModelClient, ModelSettings
from ._messages import AssistantMessage, Message, UserMessage

__all__ = ["Tokenizer", "TokenMethod"]

TokenMethod = Literal["extras", "llama.cpp", "vllm", "estimate"]
"""How a `Tokenizer` counts: one of the server endpoints, or the calibrated estimate."""

_MESSAGE_OVERHEAD = 4
"""Tokens a chat template adds around each message (role markers, separators)."""
_CALIBRATION = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod " * 12
_DEFAULT_CHARS_PER_TOKEN = 4.0
_CACHE_SIZE = 4096
"""Texts whose counts are remembered: a conversation is counted again every turn."""


def _text_of(message: Message) -> str:
    text = message.content
    if isinstance(message, AssistantMessage) and message.tool_calls:
        calls = [{"name": c.name, "arguments": c.arguments} for c in message.tool_calls]
        text += json.dumps(calls)
    return text


class Tokenizer:
    """Counts tokens of text and of messages for one model server.

    The first count finds out how: the server's tokenizer endpoint if it has one, else an
    estimate from characters per token, calibrated by two one-token requests whose prompt
    token counts the server reports. Counts through the endpoint are exact for the text
    (the chat template adds a few tokens per message, estimated).

    Example:
        ```python
        tokens = Tokenizer(model)
        n = await tokens.count_messages(messages)
        ```
    """

    def __init__(self, model: ModelClient, *, timeout: float = 10.0) -> None:
        """Count for `model`'s server; each tokenizer request may take `timeout` seconds."""
        self.model = model
        self.timeout = timeout
        self.method: TokenMethod | None = None
        """How counts are made, once the first count found out."""
        self.chars_per_token = _DEFAULT_CHARS_PER_TOKEN
        """The estimate's ratio (used only when `method` is `estimate`)."""
        self._lock = anyio.Lock()
        self._cache: OrderedDict[str, int] = OrderedDict()

    @property
    def _root(self) -> str:
        base = self.model.config.base_url.rstrip("/")
        return base.removesuffix("/v1")

    async def _post(self, path: str, payload: dict[str, Any]) -> Any:
        response = await self.model.openai.post(
            self._root + path,
            body=payload,
            cast_to=httpx2.Response,
            options={"timeout": self.timeout, "max_retries": 0},
        )
        return response.json()

    async def _endpoint(self, method: TokenMethod, text: str) -> int:
        if method == "extras":
            data = await self._post("/extras/tokenize/count", {"input": text})
            return int(data["count"])
        if method == "llama.cpp":
            data = await self._post("/tokenize", {"content": text})
            return len(data["tokens"])
        name = await self.model.model_name()
        data = await self._post("/tokenize", {"model": name, "prompt": text})
        return int(data["count"])

    async def _detect(self) -> None:
        for method in ("extras", "llama.cpp", "vllm"):
            try:
                if await self._endpoint(method, "hello world") > 0:
                    self.method = method
                    return
            except (openai.APIError, ValueError, KeyError, TypeError):
                continue
        self.chars_per_token = await self._calibrate()
        self.method = "estimate"

    async def _calibrate(self) -> float:
        """Characters per token from the prompt counts of two one-token requests."""
        settings = ModelSettings(max_tokens=1, temperature=0.0)
        counts: list[int] = []
        texts = [_CALIBRATION[:60], _CALIBRATION]
        try:
            for text in texts:
                response = await self.model.complete([UserMessage(content=text)], settings=settings)
                counts.append(response.usage.input_tokens)
        except Exception:  # no usable usage: keep the default ratio
            return _DEFAULT_CHARS_PER_TOKEN
        tokens = counts[1] - counts[0]
        if tokens <= 0:
            return _DEFAULT_CHARS_PER_TOKEN
        return (len(texts[1]) - len(texts[0])) / tokens

    async def count_text(self, text: str) -> int:
        """Tokens in `text`."""
        if not text:
            return 0
        if self.method is None:
            async with self._lock:
                if self.method is None:
                    await self._detect()
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            return cached
        count = max(1, round(len(text) / self.chars_per_token))
        method = self.method
        if method is not None and method != "estimate":
            try:
                count = await self._endpoint(method, text)
            except (openai.APIError, ValueError, KeyError, TypeError):
                return count  # the endpoint failed now: estimate this one, cache nothing
        self._cache[text] = count
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return count

    async def count_messages(self, messages: Sequence[Message]) -> int:
        """Tokens the messages take in a prompt, template overhead included."""
        total = 0
        for message in messages:
            total += await self.count_text(_text_of(message)) + _MESSAGE_OVERHEAD
        return total
