"""How an evaluation runs: trials, concurrency, limits per endpoint, retries, seeds."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from .._errors import UsageError
from ..models import ModelClient
from ._case import Case, Limits, Suite

__all__ = ["EndpointLimits", "EvalOptions", "check_settings"]


def check_settings(counts: Mapping[str, int | None], seconds: tuple[str, float | None]) -> None:
    """Raise `UsageError` naming the first count below 1, or a time that is not positive.

    Args:
        counts: Setting name (as the user wrote it) -> count, None where not set.
        seconds: A time setting's name and value (None: not set).
    """
    for name, value in counts.items():
        if value is not None and value < 1:
            raise UsageError(f"{name} must be at least 1, got {value}.")
    name, value = seconds
    if value is not None and not value > 0:
        raise UsageError(f"{name} must be a positive number of seconds, got {value}.")


def _key(base_url: str) -> str:
    return base_url.rstrip("/")


@dataclass(kw_only=True, slots=True)
class EndpointLimits:
    """At most so many trials at once on each model endpoint (base URL).

    Share one between the runs of several models (`EvalOptions.endpoints`): trials of
    different endpoints run side by side under the overall concurrency, while each
    endpoint gets no more than its cap, however many runs use it. A trial waits for its
    endpoint before its time limit starts, so a server that answers one request at a
    time (the embedded model) is not charged for the queue.
    """

    per_endpoint: int | None = None
    """Trials at once per base URL; None for no cap except those in `caps`."""
    caps: dict[str, int] = field(default_factory=dict[str, int])
    """The cap of particular endpoints (base URL -> trials at once), for example a
    server's slot count; they win over `per_endpoint`."""
    _limiters: dict[str, anyio.CapacityLimiter] = field(
        init=False, default_factory=dict[str, anyio.CapacityLimiter]
    )

    def __post_init__(self) -> None:
        self.caps = {_key(url): cap for url, cap in self.caps.items()}
        for cap in [self.per_endpoint, *self.caps.values()]:
            if cap is not None and cap < 1:
                raise UsageError(f"Trials at once per endpoint must be at least 1, got {cap}.")

    def for_url(self, base_url: str) -> anyio.CapacityLimiter:
        """The limiter of the endpoint at `base_url` (made on first use)."""
        key = _key(base_url)
        if key not in self._limiters:
            cap = self.caps.get(key, self.per_endpoint)
            self._limiters[key] = anyio.CapacityLimiter(math.inf if cap is None else cap)
        return self._limiters[key]


@dataclass(kw_only=True, slots=True)
class EvalOptions:
    """How to run an evaluation."""

    trials: int = 1
    """k: trials per case."""
    concurrency: int = 4
    """Trials running at once (each has its own world and server processes)."""
    limiter: anyio.CapacityLimiter | None = None
    """Share one limit between several runs (one per model); default: `concurrency`."""
    endpoints: EndpointLimits | None = None
    """A cap per model endpoint, shared between runs; default: none beyond `limiter`."""
    attempts: int = 3
    """Tries per trial when the infrastructure fails."""
    retry_delay: float = 1.0
    """Seconds before the first retry (doubling)."""
    seed: int = 0
    """Base seed; each trial's seed derives from it, the case and the trial index."""
    temperature: float | None = None
    """Sampling temperature for the agent (default: the model server's)."""
    time_limit: float | None = None
    """Seconds each trial's agent may run, instead of the suite's limit. It counts from
    when the trial has its endpoint, after its world is set up; scoring is not counted."""
    max_turns: int | None = None
    """Model turns each trial may take, instead of the suite's limit."""
    judge: ModelClient | None = None
    """Model for rubric judges that name none."""
    user_model: ModelClient | None = None
    """Model that plays simulated users given `instructions` (default: the agent's)."""
    case_model: Callable[[Case], ModelClient] | None = None
    """The model of each case's trials instead of the run's, e.g. a scripted model that
    knows the case by its URL (`--model scripted:...`); reports name the run's."""
    reflect: bool = False
    """Run each case's trials in order; after a failure the model writes a lesson that
    later trials of matching tasks get in their instructions (see `_lessons`)."""
    workdir: Path | None = None
    """Where trial worlds are made (default: the system's temporary directory)."""
    config: dict[str, Any] = field(default_factory=dict[str, Any])
    """Extra settings to record with the run."""

    def check(self) -> None:
        """Raise `UsageError` for settings that cannot run."""
        counts = {"trials": self.trials, "concurrency": self.concurrency}
        counts |= {"attempts": self.attempts, "max_turns": self.max_turns}
        check_settings(
            {f"EvalOptions.{name}": value for name, value in counts.items()},
            ("EvalOptions.time_limit", self.time_limit),
        )

    def limits_for(self, suite: Suite, case: Case) -> Limits:
        """A case's limits, with `time_limit` and `max_turns` in place of the suite's."""
        limits = suite.limits_for(case)
        update: dict[str, Any] = {}
        if self.time_limit is not None:
            update["seconds"] = self.time_limit
        if self.max_turns is not None:
            update["turns"] = self.max_turns
        return limits.model_copy(update=update) if update else limits
