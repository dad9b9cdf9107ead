"""Scorers of an environment's end state and of what the agent told the user.

`state` reads one value of the trial environment's `state()` by a dotted path (the
tau-bench idea, on any environment); `said` checks that facts reached the user, in any of
the agent's answers of a conversation, not only its last.
"""

from __future__ import annotations

import inspect
from typing import Any, Literal

from pydantic import Field

from ..models import AssistantMessage
from ._results import ScoreResult
from ._scorers_output import ScorerBase, normalize
from ._scorers_state import _same  # pyright: ignore[reportPrivateUsage]
from ._trial import TrialContext, shown

__all__ = ["SaidScorer", "StateScorer", "agent_said"]

_MISSING = object()


def _step(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        return value.get(key, _MISSING)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    if isinstance(value, list | tuple) and key.lstrip("-").isdigit():
        items: list[Any] = list(value)  # pyright: ignore[reportUnknownArgumentType]
        index = int(key)
        return items[index] if -len(items) <= index < len(items) else _MISSING
    return _MISSING


def _keys(value: Any) -> str:
    if isinstance(value, dict):
        return f"keys there: {shown(sorted(str(k) for k in value))}"  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    return f"there is {type(value).__name__} {shown(value, 80)}"


class StateScorer(ScorerBase):
    """One value of the environment's end state (`state()`) equals `equals`.

    `path` walks the state: `orders.O1.status` (dict keys; list indexes as numbers).
    """

    type: Literal["state"] = "state"
    path: str = Field(min_length=1)
    """Dotted path into the state, e.g. `orders.O1.status`."""
    equals: Any
    """The value expected there (numbers compare by value)."""

    async def score(self, trial: TrialContext) -> ScoreResult:
        """Read the state and compare."""
        if trial.environment is None:
            return self.verdict(
                False,
                "The case has no environment, so there is no state to read: add "
                "`environment:` to the case or the suite.",
            )
        value: Any = trial.environment.state()
        if inspect.isawaitable(value):
            value = await value
        walked: list[str] = []
        for key in self.path.split("."):
            found = _step(value, key)
            if found is _MISSING:
                where = ".".join(walked) or "the state"
                return self.verdict(
                    False,
                    f"The end state has no {self.path!r}: {where} has no {key!r} ({_keys(value)}).",
                    expected=self.equals,
                )
            value = found
            walked.append(key)
        return self.verdict(
            _same(self.equals, value),
            f"Expected {self.path} = {shown(self.equals)}, the end state has {shown(value)}.",
            expected=self.equals,
            actual=value,
        )


def agent_said(trial: TrialContext) -> list[str]:
    """Every answer the agent gave the user in the trial's conversation, in order."""
    texts = [m.content for m in trial.messages if isinstance(m, AssistantMessage) and m.content]
    if trial.output and (not texts or texts[-1] != trial.output):
        texts.append(trial.output)
    return texts


class SaidScorer(ScorerBase):
    """The agent told the user every one of `values` (or one, with `any: true`).

    Any of the agent's answers in the conversation counts, not only the last; phrases are
    compared case- and punctuation-insensitively.
    """

    type: Literal["said"] = "said"
    values: list[str] = Field(min_length=1)
    """The facts (phrases) the user must have been told."""
    any: bool = False
    """Pass when one of them was said."""

    async def score(self, trial: TrialContext) -> ScoreResult:
        """Look for each phrase in what the agent said."""
        said = " \n ".join(normalize(text) for text in agent_said(trial))
        missing = [v for v in self.values if normalize(v) not in said]
        passed = len(missing) < len(self.values) if self.any else not missing
        told = "The agent never answered the user." if not said.strip() else ""
        return self.verdict(
            passed,
            told
            or (
                f"The agent told the user all of {shown(self.values)}."
                if not missing
                else f"The agent never told the user {shown(missing)}."
            ),
            missing=missing,
        )
