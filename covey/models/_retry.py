"""Retries with capped, jittered backoff, and the one place provider errors become covey's."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio
import openai

from .._errors import ModelConnectionError, ModelError, ModelHTTPError, ModelResponseError
from ._config import ModelConfig

__all__ = ["RetryInfo", "RetryCallback", "call_with_retries", "to_model_error", "is_retryable"]

T = TypeVar("T")

_RETRY_STATUS = frozenset({408, 409, 429})


@dataclass(kw_only=True, slots=True, frozen=True)
class RetryInfo:
    """A failed attempt that covey is about to retry."""

    attempt: int
    """Which attempt failed (1 for the first)."""
    delay: float
    """Seconds covey waits before the next attempt."""
    error: str
    """What went wrong, in one line."""


RetryCallback = Callable[[RetryInfo], None]


def is_retryable(exc: BaseException) -> bool:
    """Whether another attempt may succeed: rate limits, 5xx, lost connections, garbage."""
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in _RETRY_STATUS or exc.status_code >= 500
    return isinstance(exc, openai.APIConnectionError | ModelResponseError)


def _retry_after(exc: BaseException) -> float | None:
    if not isinstance(exc, openai.APIStatusError):
        return None
    value = exc.response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _delay(attempt: int, exc: BaseException, config: ModelConfig) -> float:
    hinted = _retry_after(exc)
    if hinted is not None:
        return min(hinted, config.backoff_max)
    base = config.backoff_base * (2 ** (attempt - 1))
    return min(config.backoff_max, base * (0.5 + random.random()))


def _status_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        if isinstance(error, dict) and isinstance(error.get("message"), str):  # pyright: ignore[reportUnknownMemberType]
            return str(error["message"])  # pyright: ignore[reportUnknownArgumentType]
        if isinstance(error, str):
            return error
    return exc.message


def _hint_for_status(status: int, config: ModelConfig) -> str:
    if status in (401, 403):
        return "Set COVEY_API_KEY (or pass api_key=...) to a key this server accepts."
    if status == 404:
        name = f"the model name {config.model!r} and " if config.model is not None else ""
        return (
            f"Check {name}the base URL (it usually ends in /v1); "
            "`GET /v1/models` lists the names the server knows."
        )
    if status == 429:
        return "The server is rate-limiting: lower the concurrency or raise max_retries."
    if status >= 500:
        return "The model server failed; its own log says why."
    return "The request was refused; the server's message above says which field."


def to_model_error(exc: BaseException, config: ModelConfig, *, attempts: int) -> ModelError:
    """Turn an `openai` exception (or garbage) into a `ModelError` a user can act on."""
    url = config.base_url
    tries = f" after {attempts} attempt{'s' if attempts != 1 else ''}"
    if isinstance(exc, openai.APITimeoutError):
        return ModelConnectionError(
            f"The model server at {url} did not answer within {config.timeout:g}s{tries}. "
            "Raise timeout=... in ModelConfig, or check that the server is not overloaded.",
            base_url=url,
        )
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        return ModelConnectionError(
            f"No model server answers at {url}{tries} ({type(cause).__name__}: {cause}). "
            "Start one with `covey model serve`, or set COVEY_BASE_URL to a running "
            "OpenAI-compatible server.",
            base_url=url,
        )
    if isinstance(exc, openai.APIStatusError):
        message = _status_message(exc)
        return ModelHTTPError(
            f"The model server at {url} answered HTTP {exc.status_code}{tries}: {message}. "
            + _hint_for_status(exc.status_code, config),
            status_code=exc.status_code,
            base_url=url,
            body=message,
        )
    if isinstance(exc, ModelError) and not isinstance(exc, ModelResponseError):
        return exc
    return ModelResponseError(
        f"The model server at {url} gave an answer covey cannot read{tries}: "
        f"{type(exc).__name__}: {exc}. Check that the URL points at an OpenAI-compatible "
        "server (its base URL usually ends in /v1)."
    )


async def call_with_retries(
    fn: Callable[[], Awaitable[T]],
    config: ModelConfig,
    on_retry: RetryCallback | None = None,
) -> T:
    """Run `fn`, retrying retryable failures with capped exponential backoff.

    Raises:
        ModelError: when the last attempt fails, or the failure is not retryable.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            return await fn()
        except (openai.OpenAIError, ModelResponseError) as exc:
            if not is_retryable(exc) or attempt > config.max_retries:
                raise to_model_error(exc, config, attempts=attempt) from exc
            delay = _delay(attempt, exc, config)
            if on_retry is not None:
                on_retry(RetryInfo(attempt=attempt, delay=delay, error=_one_line(exc)))
            await anyio.sleep(delay)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}: {_status_message(exc)}"
    return f"{type(exc).__name__}: {exc}"
