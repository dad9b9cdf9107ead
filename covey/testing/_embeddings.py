"""Deterministic `/v1/embeddings` and llama.cpp's `/tokenize` for the scripted server.

Embeddings are a hashed bag of words, so similar texts get similar vectors; tokens are one
per word, as the scripted server's usage counts them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import struct
import zlib
from typing import Any, cast

from ._http import Response, json_response
from ._replies import error_response, words
from ._script import ChatRequest

__all__ = ["embed_text", "embeddings_response", "tokenize_response"]


def embed_text(text: str, dimensions: int) -> list[float]:
    """A hashed bag of words, L2-normalised; case and surrounding punctuation are ignored."""
    vector = [0.0] * dimensions
    for word in text.lower().split():
        digest = hashlib.blake2b(word.strip(".,;:!?\"'()[]").encode(), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "little") % len(vector)
        vector[index] += 1.0 if digest[4] % 2 == 0 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def embeddings_response(chat: ChatRequest, *, dimensions: int, model: str) -> Response:
    """The answer to an embeddings request (float lists, or base64 when asked)."""
    raw: object = chat.body.get("input", [])
    items: list[object] = [raw] if isinstance(raw, str) else []
    if isinstance(raw, list):
        items = cast(list[object], raw)
    inputs = [item if isinstance(item, str) else json.dumps(item) for item in items]
    size = int(chat.body.get("dimensions") or dimensions)
    as_base64 = chat.body.get("encoding_format") == "base64"
    data: list[dict[str, Any]] = []
    for index, text in enumerate(inputs):
        vector = embed_text(text, size)
        encoded: object = vector
        if as_base64:
            encoded = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = sum(words(t) for t in inputs)
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    name = chat.body.get("model") or model
    return json_response({"object": "list", "data": data, "model": name, "usage": usage})


def tokenize_response(body: bytes) -> Response:
    """llama.cpp's `/tokenize`: `{"content": text}` -> `{"tokens": [...]}`, a token per word."""
    try:
        data = json.loads(body)
    except ValueError:
        return error_response(400, "The request body is not valid JSON.")
    content: object = cast(dict[str, Any], data).get("content") if isinstance(data, dict) else None
    if not isinstance(content, str):
        return error_response(400, 'Send {"content": "text"} to /tokenize.')
    tokens = [zlib.crc32(word.encode()) % 32000 for word in content.split()]
    return json_response({"tokens": tokens})
