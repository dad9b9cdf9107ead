"""The model endpoints of `covey eval`: checked before the first trial, then opened.

An eval against a server that is not there, or a model name it does not serve, would run
every trial into the same error; one request to each endpoint's `/v1/models` finds that
out in seconds, so the command can stop with one line instead.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from .._errors import ModelConnectionError, UsageError
from ..models import EmbeddedModel, ModelClient, ModelConfig

__all__ = ["Endpoint", "OpenEndpoint", "check_endpoints", "open_endpoint"]

CHECK_TIMEOUT = 5.0
"""Seconds an endpoint has to answer `GET /v1/models` before the eval starts."""


@dataclass(kw_only=True, slots=True, frozen=True)
class Endpoint:
    """A model to check, and where the user set it (to say what to fix)."""

    config: ModelConfig
    """The endpoint and model name."""
    source: str
    """Where it was set: `--model`, `--judge`, or `COVEY_BASE_URL`."""


def _fix_name(source: str) -> str:
    if source == "COVEY_BASE_URL":
        return "Set COVEY_MODEL to one of them"
    return f"Fix the name after '#' in {source}"


async def _served(endpoint: Endpoint) -> list[str] | None:
    url = endpoint.config.base_url
    async with ModelClient(endpoint.config) as client:
        try:
            return await client.served_models(timeout=CHECK_TIMEOUT)
        except ModelConnectionError:
            raise UsageError(
                f"No model server answers at {url}: start one (covey model serve) "
                f"or fix {endpoint.source}."
            ) from None


async def check_endpoints(endpoints: Sequence[Endpoint]) -> None:
    """Ask each distinct endpoint once for its models; stop at the first that fails.

    Raises:
        UsageError: nothing answers at an endpoint, or it lists models and not the one
            named.
    """
    served: dict[str, list[str] | None] = {}
    for endpoint in endpoints:
        config = endpoint.config
        url = config.base_url.rstrip("/")
        if url not in served:
            served[url] = await _served(endpoint)
        names = served[url]
        if config.model is not None and names and config.model not in names:
            listed = ", ".join(repr(name) for name in names)
            raise UsageError(
                f"Model {config.model!r} is not served at {config.base_url}: it serves "
                f"{listed}. {_fix_name(endpoint.source)}."
            )


@dataclass(kw_only=True, slots=True, frozen=True)
class OpenEndpoint:
    """An open model client, and how many requests its server works on at once."""

    model: ModelClient
    """The client."""
    slots: int | None
    """Requests the server serves at once, when covey knows (the embedded model)."""


@asynccontextmanager
async def open_endpoint(config: ModelConfig | None) -> AsyncGenerator[OpenEndpoint]:
    """A client for `config`, or for the embedded model (started here) when None."""
    if config is not None:
        async with ModelClient(config) as client:
            yield OpenEndpoint(model=client, slots=None)
        return
    async with EmbeddedModel() as embedded, embedded.client() as client:
        yield OpenEndpoint(model=client, slots=embedded.slots)
