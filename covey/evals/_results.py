"""Result records of an evaluation: scores, trials, cases and runs.

These pydantic models are the shared contract between the runner (which produces them and
records them in the store) and the reports (which read them back).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "CaseInfo",
    "LimitHit",
    "ProtocolStats",
    "RunInfo",
    "RunResults",
    "ScoreResult",
    "TrialResult",
    "TrialStatus",
]

TrialStatus = Literal["passed", "failed", "error"]
"""How a trial ended; ``"error"`` means infrastructure failed, not the agent."""

LimitHit = Literal["time", "turns", "tokens"]
"""Which per-trial limit stopped a trial."""


class ScoreResult(BaseModel):
    """One scorer's verdict on one trial.

    Attributes:
        name: The scorer's name, e.g. ``"contains"`` or ``"file_equals"``.
        value: The score, from 0.0 to 1.0.
        passed: Whether the scorer's check passed.
        explanation: Why, in one sentence a person can act on.
        metadata: Scorer-specific details (expected and actual values, ...).
    """

    name: str
    value: float
    passed: bool
    explanation: str
    metadata: dict[str, Any] = Field(default_factory=dict[str, Any])


def _rate(count: int, total: int) -> float | None:
    return None if total == 0 else count / total


class ProtocolStats(BaseModel):
    """How well a model used the tool-calling protocol during one trial.

    Attributes:
        tool_calls: Tool calls the model made.
        valid_tool_names: Calls naming a tool that exists.
        schema_valid_arguments: Calls whose arguments validated against the tool's schema.
        tool_errors: Calls whose result was an error.
    """

    tool_calls: int = 0
    valid_tool_names: int = 0
    schema_valid_arguments: int = 0
    tool_errors: int = 0

    @property
    def valid_tool_name_rate(self) -> float | None:
        """Share of calls naming an existing tool, or None when no call was made."""
        return _rate(self.valid_tool_names, self.tool_calls)

    @property
    def schema_valid_argument_rate(self) -> float | None:
        """Share of calls with schema-valid arguments, or None when no call was made."""
        return _rate(self.schema_valid_arguments, self.tool_calls)

    @property
    def tool_error_rate(self) -> float | None:
        """Share of calls whose result was an error, or None when no call was made."""
        return _rate(self.tool_errors, self.tool_calls)


class TrialResult(BaseModel):
    """One attempt of one model at one case, in its own fresh world.

    Attributes:
        run_id: The run this trial belongs to.
        case_id: The case it attempted.
        trial: 0-based trial index within the case.
        model: Model label, e.g. ``"qwen3-8b@http://host/v1"`` or ``"embedded:gemma3-270m"``.
        model_name: The name the model server serves the model under (``"qwen3-8b"``):
            what price tables are keyed by. None on trials recorded before it was kept.
        seed: Sampling seed used for this trial.
        status: ``"passed"``, ``"failed"`` or ``"error"`` (infrastructure).
        score: Mean of the scores' values (0 on error).
        scores: Each scorer's verdict.
        output: The agent's final answer, if any.
        error: Infrastructure error text or the limit explanation.
        limit_hit: Which limit stopped the trial, if one did.
        input_tokens: Prompt tokens used.
        output_tokens: Completion tokens used.
        latency_s: Wall-clock seconds of the agent run.
        turns: Model turns taken.
        attempts: Infrastructure retries + 1.
        started_at: When the trial started.
        finished_at: When it finished.
        protocol: Tool-calling protocol statistics.
        transcript: Messages, tool calls and results as JSON dicts.
    """

    run_id: str
    case_id: str
    trial: int
    model: str
    model_name: str | None = None
    seed: int
    status: TrialStatus
    score: float
    scores: list[ScoreResult] = Field(default_factory=list[ScoreResult])
    output: str | None = None
    error: str | None = None
    limit_hit: LimitHit | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0
    turns: int = 0
    attempts: int = 1
    started_at: datetime
    finished_at: datetime
    protocol: ProtocolStats = Field(default_factory=ProtocolStats)
    transcript: list[dict[str, Any]] = Field(default_factory=list[dict[str, Any]])

    @property
    def success(self) -> bool:
        """True when the trial passed."""
        return self.status == "passed"


class CaseInfo(BaseModel):
    """What a report needs to know about a case.

    Attributes:
        id: The case id, unique within its suite.
        input: The task given to the agent.
        tags: Free-form labels for grouping.
        metadata: Free-form details.
    """

    id: str
    input: str
    tags: list[str] = Field(default_factory=list[str])
    metadata: dict[str, Any] = Field(default_factory=dict[str, Any])


class RunInfo(BaseModel):
    """One evaluation run: a suite, a model, k trials per case.

    Attributes:
        run_id: The run's id; re-running with the same id resumes it.
        suite: The suite's name.
        model: The model label.
        trials_per_case: k, the trials per case.
        started_at: When the run first started.
        finished_at: When it finished, or None while unfinished.
        config: Concurrency, limits, seed, covey version, ...
    """

    run_id: str
    suite: str
    model: str
    trials_per_case: int
    started_at: datetime
    finished_at: datetime | None = None
    config: dict[str, Any] = Field(default_factory=dict[str, Any])


class RunResults(BaseModel):
    """Everything recorded about a run.

    Attributes:
        run: The run.
        cases: The suite's cases.
        trials: Every finished trial.
    """

    run: RunInfo
    cases: list[CaseInfo]
    trials: list[TrialResult]
