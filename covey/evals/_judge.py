"""A rubric judge: a model reads the task, the tool calls and the answer, and grades them.

Any OpenAI-compatible model can judge. A judge that cannot be reached or answers with
something that is not a verdict gives a failed score that says so, never an exception.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, field_validator

from .._errors import CoveyError, ModelConnectionError, ModelHTTPError
from ..models import (
    ModelClient,
    ModelConfig,
    ModelSettings,
    OutputSchema,
    SystemMessage,
    UserMessage,
)
from ._results import ScoreResult
from ._scorers_output import ScorerBase, json_values
from ._trial import ToolCallRecord, TrialContext, shown

__all__ = ["JudgeScorer", "JudgeUnavailable", "judge_prompt", "parse_verdict"]


class JudgeUnavailable(CoveyError):
    """The judge model could not be reached (down, overloaded): the infrastructure failed.

    The runner retries the trial and, if the judge stays away, records it as an `error`
    rather than a failed score.
    """


def _unavailable(exc: CoveyError) -> bool:
    if isinstance(exc, ModelHTTPError):
        return exc.status_code >= 500 or exc.status_code == 429
    return isinstance(exc, ModelConnectionError)


_SYSTEM = (
    "You grade the work of an AI agent against a rubric. Be strict and fair: judge only "
    "what the agent did and answered, not what it might have meant."
)
_VERDICT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "score": {"type": "number", "minimum": 0, "maximum": 1},
        "reason": {"type": "string"},
    },
    "required": ["score", "reason"],
}
_MAX_CALLS = 30


def _call_line(number: int, call: ToolCallRecord) -> str:
    outcome = "failed" if call.is_error else "returned"
    result = shown(call.result, 160)
    return f"{number}. {call.name}({shown(call.arguments, 160)}) {outcome} {result}"


def judge_prompt(trial: TrialContext, rubric: str, *, include_tools: bool = True) -> str:
    """The text a judge model grades: task, tool calls (shortened), final answer, rubric."""
    parts = [f"## Task given to the agent\n{trial.input}"]
    if include_tools:
        calls = trial.tool_calls
        lines = [_call_line(i, c) for i, c in enumerate(calls[:_MAX_CALLS], start=1)]
        if len(calls) > _MAX_CALLS:
            lines.append(f"... and {len(calls) - _MAX_CALLS} more call(s).")
        parts.append("## Tool calls the agent made\n" + ("\n".join(lines) or "(none)"))
    answer = trial.output if trial.output is not None else "(none: a limit stopped the agent)"
    parts.append(f"## The agent's final answer\n{answer}")
    parts.append(f"## Rubric\n{rubric}")
    parts.append(
        "Grade how well the agent met the rubric. Answer with JSON only, like "
        '{"score": 0.8, "reason": "one sentence"}, where score is a number from 0 (fails '
        "the rubric) to 1 (fully meets it)."
    )
    return "\n\n".join(parts)


def parse_verdict(text: str) -> tuple[float, str]:
    """The score and reason in a judge's answer: a JSON object, bare, fenced or embedded.

    Raises:
        ValueError: the text holds no object with a numeric `score` from 0 to 1.
    """
    for data in json_values(text):
        if isinstance(data, dict):
            verdict: dict[str, Any] = data  # pyright: ignore[reportUnknownVariableType]
            score = verdict.get("score")
            if isinstance(score, bool) or not isinstance(score, int | float):
                raise ValueError(f"its score is {shown(score)}, not a number from 0 to 1")
            if not math.isfinite(score) or not 0 <= score <= 1:
                raise ValueError(f"its score {score:g} is outside 0 to 1")
            return float(score), str(verdict.get("reason", ""))
    raise ValueError("it holds no JSON object")


class JudgeScorer(ScorerBase):
    """A model grades the trial against `rubric`; it passes when the score reaches `threshold`.

    The judge is `model` (`URL#NAME` of an OpenAI-compatible server), else the run's judge
    (`covey eval --judge URL#NAME`).
    """

    type: Literal["judge"] = "judge"
    rubric: str = Field(min_length=1)
    """What a good answer does, in plain words."""
    model: str | None = None
    """`URL#NAME` of the judge model, e.g. `http://127.0.0.1:8000/v1#qwen3-8b`."""
    threshold: float = Field(default=0.5, ge=0, le=1)
    """Lowest score that passes."""
    include_tools: bool = True
    """Show the judge the agent's tool calls, not only its answer."""

    @field_validator("model")
    @classmethod
    def _is_url(cls, model: str | None) -> str | None:
        if model is not None and not model.startswith(("http://", "https://")):
            raise ValueError(
                f"judge model {model!r} is not URL#NAME, e.g. http://127.0.0.1:8000/v1#qwen3-8b"
            )
        return model

    def _config(self, spec: str) -> ModelConfig:
        url, _, name = spec.partition("#")
        return ModelConfig(base_url=url.rstrip("/"), model=name or None)

    async def score(self, trial: TrialContext) -> ScoreResult:
        """Ask the judge model and read its verdict.

        Raises:
            JudgeUnavailable: the judge model could not be reached.
        """
        if self.model is not None:
            async with ModelClient(self._config(self.model)) as client:
                return await self._ask(client, trial)
        if trial.judge is None:
            return self.verdict(
                False,
                "This judge scorer names no model and the run has no judge: pass "
                "--judge URL#NAME to covey eval (or set model: URL#NAME on the scorer).",
                judge_error="no judge model",
            )
        return await self._ask(trial.judge, trial)

    async def _ask(self, client: ModelClient, trial: TrialContext) -> ScoreResult:
        prompt = judge_prompt(trial, self.rubric, include_tools=self.include_tools)
        where = client.config.base_url
        try:
            response = await client.complete(
                [SystemMessage(content=_SYSTEM), UserMessage(content=prompt)],
                output=OutputSchema(name="verdict", schema=_VERDICT),
                settings=ModelSettings(temperature=0),
            )
        except CoveyError as exc:
            if _unavailable(exc):
                raise JudgeUnavailable(
                    f"The judge model at {where} could not be asked: {exc}"
                ) from exc
            return self.verdict(
                False, f"The judge model at {where} could not be asked: {exc}", judge_error=str(exc)
            )
        try:
            score, reason = parse_verdict(response.text)
        except ValueError as exc:
            return self.verdict(
                False,
                f"The judge model at {where} gave no usable verdict ({exc}): "
                f"{shown(response.text)}.",
                judge_error=str(exc),
                judge_text=response.text,
            )
        passed = score >= self.threshold
        return ScoreResult(
            name=self.name,
            value=score,
            passed=passed,
            explanation=f"The judge scored {score:.2f} (pass mark {self.threshold:.2f}): {reason}",
            metadata={"score": score, "reason": reason, "threshold": self.threshold},
        )
