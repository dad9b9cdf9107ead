"""Trajectory scorers: which tools the agent called, with which arguments, in which order."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import Field, model_validator

from ._results import ScoreResult
from ._scorers_output import ScorerBase
from ._trial import ToolCallRecord, TrialContext, shown

__all__ = ["ToolCalledScorer", "ToolErrorsScorer", "ToolSequenceScorer"]


class ToolCalledScorer(ScorerBase):
    """A tool was called between `min_times` and `max_times` times (or never, with `absent`).

    With `arguments`, only calls with those arguments count: `match: subset` (the default)
    lets a call have more arguments, `match: exact` does not.
    """

    type: Literal["tool_called"] = "tool_called"
    name_: str = Field(alias="name", min_length=1)
    """The tool's name."""
    arguments: dict[str, Any] | None = None
    """Arguments the call must have, with equal values."""
    match: Literal["subset", "exact"] = "subset"
    """`subset`: the call may have other arguments too; `exact`: exactly these."""
    min_times: int = Field(default=1, ge=0)
    """Fewest matching calls."""
    max_times: int | None = Field(default=None, ge=0)
    """Most matching calls (no limit by default)."""
    absent: bool = False
    """The tool (with these arguments, if given) must never be called."""
    successful: bool = False
    """Count only calls that did not fail."""

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.absent and {"min_times", "max_times"} & self.model_fields_set:
            raise ValueError(
                "A tool_called scorer with absent: true cannot also set min_times or max_times."
            )
        if self.max_times is not None and self.max_times < self.min_times:
            raise ValueError(f"max_times ({self.max_times}) is below min_times ({self.min_times}).")
        return self

    def _matches(self, call: ToolCallRecord) -> bool:
        if call.name != self.name_ or (self.successful and call.is_error):
            return False
        if self.arguments is None:
            return True
        if self.match == "exact":
            return call.arguments == self.arguments
        missing = object()
        return all(call.arguments.get(k, missing) == v for k, v in self.arguments.items())

    def _wanted(self) -> str:
        what = f"{self.name_!r}"
        if self.arguments is not None:
            relation = "exactly" if self.match == "exact" else "including"
            what += f" with arguments {relation} {shown(self.arguments)}"
        if self.successful:
            what += " (successful calls only)"
        if self.absent:
            return f"no call to {what}"
        high = "" if self.max_times is None else f" and at most {self.max_times}"
        return f"at least {self.min_times}{high} call(s) to {what}"

    async def score(self, trial: TrialContext) -> ScoreResult:
        """Count the matching calls."""
        count = sum(self._matches(c) for c in trial.tool_calls)
        if self.absent:
            passed = count == 0
        else:
            passed = count >= self.min_times and (self.max_times is None or count <= self.max_times)
        same_name = [c.arguments for c in trial.tool_calls if c.name == self.name_]
        if same_name:
            found = f"found {count} matching; the calls to it had arguments {shown(same_name)}"
        else:
            called = sorted({c.name for c in trial.tool_calls})
            found = f"it was never called (tools called: {shown(called)})"
        return self.verdict(
            passed, f"Expected {self._wanted()}; {found}.", expected=self._wanted(), count=count
        )


class ToolSequenceScorer(ScorerBase):
    """The tools were called in an order.

    `ordered`: `names` appear in that order, other calls in between allowed; `exact`: the
    calls are exactly `names`; `set`: each of `names` was called, in any order.
    """

    type: Literal["tool_sequence"] = "tool_sequence"
    names: list[str] = Field(min_length=1)
    """Tool names."""
    mode: Literal["ordered", "exact", "set"] = "ordered"

    async def score(self, trial: TrialContext) -> ScoreResult:
        """Compare the names of the calls made."""
        called = [c.name for c in trial.tool_calls]
        if self.mode == "exact":
            passed = called == self.names
            wanted = f"exactly the calls {shown(self.names)}"
        elif self.mode == "set":
            missing = [n for n in dict.fromkeys(self.names) if n not in called]
            passed = not missing
            wanted = f"calls to each of {shown(self.names)}" + (
                f" (missing {shown(missing)})" if missing else ""
            )
        else:
            remaining = iter(called)
            passed = all(any(n == c for c in remaining) for n in self.names)
            wanted = f"calls {shown(self.names)} in that order"
        return self.verdict(
            passed,
            f"Expected {wanted}; the calls were {shown(called)}.",
            expected=self.names,
            actual=called,
        )


class ToolErrorsScorer(ScorerBase):
    """At most `max` tool calls failed."""

    type: Literal["tool_errors"] = "tool_errors"
    max: int = Field(default=0, ge=0)
    """Most failed calls allowed."""

    async def score(self, trial: TrialContext) -> ScoreResult:
        """Count the failed calls."""
        failed = [c for c in trial.tool_calls if c.is_error]
        details = [{"name": c.name, "result": c.result[:120]} for c in failed]
        return self.verdict(
            len(failed) <= self.max,
            f"Expected at most {self.max} failed tool call(s); {len(failed)} of "
            f"{len(trial.tool_calls)} failed" + (f": {shown(details, 400)}." if failed else "."),
            failed=len(failed),
        )
