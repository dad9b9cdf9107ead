"""Custom scorers written in Python: a `module:function` named in YAML, or a function passed in.

The function takes the `TrialContext` and returns a `ScoreResult`, a bool (passed or not)
or a number from 0 to 1 (passes at 0.5 or more); it may be sync or async. A sync function
runs in a worker thread, as sync tools do, so a slow one does not stall other trials.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, TypeAlias, cast

import anyio.to_thread
from pydantic import field_validator

from ._results import ScoreResult
from ._scorers_output import ScorerBase
from ._trial import TrialContext, shown

__all__ = ["FunctionScorer", "PythonScorer", "ScoreFunction", "ScoreValue", "scorer"]

ScoreValue: TypeAlias = ScoreResult | bool | float
"""What a scoring function may return."""
ScoreFunction: TypeAlias = Callable[[TrialContext], ScoreValue | Awaitable[ScoreValue]]
"""A scoring function, sync or async."""


def _failed(name: str, explanation: str, **metadata: object) -> ScoreResult:
    return ScoreResult(
        name=name, value=0.0, passed=False, explanation=explanation, metadata=dict(metadata)
    )


def _is_async(function: object) -> bool:
    call = getattr(function, "__call__", None)  # noqa: B004 (an object with async __call__)
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(call)


async def _call(name: str, function: ScoreFunction, trial: TrialContext) -> ScoreResult:
    # Functions from YAML suites are untyped: check what came back at run time.
    if _is_async(function):
        value = cast(object, function(trial))
    else:  # a sync function may block: in a thread, other trials go on meanwhile
        value = cast(
            object, await anyio.to_thread.run_sync(function, trial, abandon_on_cancel=True)
        )
    if inspect.isawaitable(value):
        value = cast(object, await value)
    if isinstance(value, ScoreResult):
        return value
    if isinstance(value, bool):
        explanation = f"{name} returned {value}."
        return ScoreResult(name=name, value=float(value), passed=value, explanation=explanation)
    if isinstance(value, int | float) and 0 <= value <= 1:
        return ScoreResult(
            name=name,
            value=float(value),
            passed=value >= 0.5,
            explanation=f"{name} returned {value:g} (passes at 0.5).",
        )
    return _failed(
        name,
        f"{name} returned {shown(value)}; a scorer must return a ScoreResult, a bool or a "
        "number from 0 to 1.",
    )


@dataclass(slots=True, frozen=True)
class FunctionScorer:
    """A Python function as a scorer, for suites written in Python.

    Example:
        ```python
        def mentions_paris(trial: TrialContext) -> bool:
            return "paris" in (trial.output or "").lower()

        scorers = [FunctionScorer(mentions_paris, name="paris")]
        ```
    """

    function: ScoreFunction
    """Takes the trial; returns a ScoreResult, a bool or a number from 0 to 1."""
    name: str = field(default="", kw_only=True)
    """Name shown in reports (default: the function's name)."""

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", getattr(self.function, "__name__", "python"))

    async def score(self, trial: TrialContext) -> ScoreResult:
        """Call the function and read its answer."""
        return await _call(self.name, self.function, trial)


def scorer(function: ScoreFunction) -> FunctionScorer:
    """Decorate a scoring function to use it as a scorer (named after the function)."""
    return FunctionScorer(function)


class PythonScorer(ScorerBase):
    """A scoring function named `module:attribute`, imported when the trial is scored."""

    type: Literal["python"] = "python"
    function: str
    """`package.module:function`; the module must be importable (on `sys.path`)."""

    @field_validator("function")
    @classmethod
    def _is_reference(cls, function: str) -> str:
        module, colon, attribute = function.partition(":")
        if not colon or not module.strip() or not attribute.strip():
            raise ValueError(
                f"{function!r} is not module:function, e.g. my_suite.scorers:mentions_paris"
            )
        return function

    def _load(self) -> ScoreFunction | str:
        module_name, _, attribute = self.function.partition(":")
        try:
            found: object = importlib.import_module(module_name.strip())
        except Exception as exc:  # any error in the user's module is reported, not raised
            return f"Could not import {module_name!r} for {self.function!r}: {exc!r}."
        for part in attribute.strip().split("."):
            if not hasattr(found, part):
                return f"Module {module_name!r} has no {attribute!r} (for {self.function!r})."
            found = getattr(found, part)
        if not callable(found):
            return f"{self.function!r} is {shown(repr(found))}, not a function."
        return found  # pyright: ignore[reportReturnType]

    async def score(self, trial: TrialContext) -> ScoreResult:
        """Import the function, call it and read its answer."""
        loaded = self._load()
        if isinstance(loaded, str):
            return _failed(self.name, loaded, error=loaded)
        return await _call(self.name, loaded, trial)
