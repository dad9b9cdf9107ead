"""The suite-level scorer: the database changed exactly as the case expects, nothing else."""

from __future__ import annotations

from typing import Any

from covey.evals import ScoreResult, TrialContext
from examples.shop.environment import Shop

__all__ = ["only_expected_changes"]


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, inner in value.items():  # pyright: ignore[reportUnknownVariableType]
            flat |= _flat(inner, f"{prefix}{key}.")
        return flat
    return {prefix.rstrip("."): value}


def only_expected_changes(trial: TrialContext) -> ScoreResult:
    """Every `expect` path of the case's metadata has its value; every other one is as it was.

    `refunds` and `transfers` count too: a refund or a transfer nobody expected fails.
    """
    shop = trial.environment
    if not isinstance(shop, Shop):
        return ScoreResult(name="database", value=0.0, passed=False, explanation="No shop.")
    expect: dict[str, Any] = trial.metadata.get("expect", {})
    before, after = _flat(shop.initial), _flat(shop.state())
    wrong = [
        f"{p} is {after.get(p)!r}, expected {v!r}" for p, v in expect.items() if after.get(p) != v
    ]
    changed = [
        f"{p} changed from {before.get(p)!r} to {after.get(p)!r}"
        for p in sorted(set(before) | set(after))
        if p not in expect and before.get(p) != after.get(p)
    ]
    problems = wrong + changed
    return ScoreResult(
        name="database",
        value=0.0 if problems else 1.0,
        passed=not problems,
        explanation="; ".join(problems) or "The database changed exactly as expected.",
    )
