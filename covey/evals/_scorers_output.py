"""Scorers of the agent's final answer: exact, normalised, contains, regex, JSON, number.

Every scorer is a pydantic model with a `type` tag (its name in YAML suites) and an async
`score(trial)` that returns a `ScoreResult` saying what was expected and what was found.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ._results import ScoreResult
from ._trial import TrialContext, shown

__all__ = [
    "ContainsScorer",
    "ExactScorer",
    "JSONScorer",
    "NormalizedScorer",
    "NumberScorer",
    "RegexScorer",
    "ScorerBase",
    "normalize",
]


class ScorerBase(BaseModel):
    """What every built-in scorer shares: a `type` tag and an optional display name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str | None = None
    """Name shown in reports (default: the type)."""

    @property
    def name(self) -> str:
        """The label, else the type tag."""
        return self.label or str(getattr(self, "type", type(self).__name__))

    def verdict(self, passed: bool, explanation: str, **metadata: Any) -> ScoreResult:
        """A pass/fail result worth 1 or 0."""
        return ScoreResult(
            name=self.name,
            value=1.0 if passed else 0.0,
            passed=passed,
            explanation=explanation,
            metadata=metadata,
        )


def normalize(text: str) -> str:
    """Case-folded, accents and punctuation dropped, whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = re.sub(r"[^\w\s]", " ", plain.casefold())
    return " ".join(words.split())


def _no_answer(scorer: ScorerBase) -> ScoreResult:
    return scorer.verdict(False, "The agent gave no final answer (a limit stopped it first).")


class ExactScorer(ScorerBase):
    """The answer, stripped of surrounding whitespace, equals `value`."""

    type: Literal["exact"] = "exact"
    value: str

    async def score(self, trial: TrialContext) -> ScoreResult:
        """Compare exactly."""
        if trial.output is None:
            return _no_answer(self)
        found, expected = trial.output.strip(), self.value.strip()
        return self.verdict(
            found == expected,
            f"Expected exactly {shown(expected)}, got {shown(found)}.",
            expected=expected,
            actual=found,
        )


class NormalizedScorer(ScorerBase):
    """The answer equals `value` once both are normalised (case, accents, punctuation)."""

    type: Literal["normalized"] = "normalized"
    value: str

    async def score(self, trial: TrialContext) -> ScoreResult:
        """Compare normalised forms."""
        if trial.output is None:
            return _no_answer(self)
        expected, found = normalize(self.value), normalize(trial.output)
        return self.verdict(
            expected == found,
            f"Expected {shown(expected)} after normalising, got {shown(found)}.",
            expected=expected,
            actual=found,
        )


class ContainsScorer(ScorerBase):
    """The answer contains every string of `values` (or `value`); `any: true` for one of them."""

    type: Literal["contains"] = "contains"
    value: str | None = None
    values: list[str] = Field(default_factory=list[str])
    any: bool = False
    case_sensitive: bool = False

    def wanted(self) -> list[str]:
        """`value` and `values` together."""
        return [*([self.value] if self.value is not None else []), *self.values]

    async def score(self, trial: TrialContext) -> ScoreResult:
        """Look for each string."""
        wanted = self.wanted()
        if not wanted:
            return self.verdict(False, "This contains scorer names no text: give value or values.")
        if trial.output is None:
            return _no_answer(self)

        def fold(text: str) -> str:
            return text if self.case_sensitive else text.casefold()

        missing = [w for w in wanted if fold(w) not in fold(trial.output)]
        passed = len(missing) < len(wanted) if self.any else not missing
        if passed:
            return self.verdict(True, f"The answer contains {shown(wanted)}.", missing=missing)
        return self.verdict(
            False,
            f"The answer lacks {shown(missing)}; it was {shown(trial.output)}.",
            missing=missing,
        )


class RegexScorer(ScorerBase):
    """The answer matches the regular expression `pattern` (searched, not anchored)."""

    type: Literal["regex"] = "regex"
    pattern: str
    ignore_case: bool = False

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from exc
        return pattern

    async def score(self, trial: TrialContext) -> ScoreResult:
        """Search for the pattern."""
        if trial.output is None:
            return _no_answer(self)
        flags = re.IGNORECASE if self.ignore_case else 0
        found = re.search(self.pattern, trial.output, flags)
        if found:
            return self.verdict(True, f"Matched {shown(found.group(0))}.", match=found.group(0))
        return self.verdict(
            False, f"No match for /{self.pattern}/ in {shown(trial.output)}.", match=None
        )


def json_values(text: str) -> Iterator[Any]:
    """The JSON values `text` may hold, likeliest first; unparsable candidates are skipped.

    Candidates: the whole text, its first fenced block, its outermost brackets or braces,
    and its outermost braces (a judge's verdict after a bracketed aside).
    """
    candidates = [text.strip()]
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    if fenced:
        candidates.append(fenced.group(1).strip())
    for pattern in (r"[\[{].*[\]}]", r"\{.*\}"):
        if block := re.search(pattern, text, re.DOTALL):
            candidates.append(block.group(0))
    for candidate in candidates:
        try:
            yield json.loads(candidate)
        except json.JSONDecodeError:
            continue


def _json_in(text: str) -> Any:
    """The first JSON value in `text` (see `json_values`)."""
    for value in json_values(text):
        return value
    raise ValueError("no JSON value found")


class JSONScorer(ScorerBase):
    """The answer holds a JSON value equal to `value` (key order and spacing do not matter)."""

    type: Literal["json"] = "json"
    value: Any

    async def score(self, trial: TrialContext) -> ScoreResult:
        """Parse and compare."""
        if trial.output is None:
            return _no_answer(self)
        try:
            found = _json_in(trial.output)
        except ValueError:
            return self.verdict(False, f"The answer holds no JSON: {shown(trial.output)}.")
        return self.verdict(
            found == self.value,
            f"Expected JSON {shown(self.value)}, got {shown(found)}.",
            expected=self.value,
            actual=found,
        )


_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?")


class NumberScorer(ScorerBase):
    """A number in the answer is within `tolerance` (absolute) or `relative` of `value`."""

    type: Literal["number"] = "number"
    value: float
    tolerance: float = Field(default=1e-9, ge=0)
    relative: float = Field(default=0.0, ge=0)
    last: bool = True
    """Use the last number in the answer (the conclusion), else any number."""

    async def score(self, trial: TrialContext) -> ScoreResult:
        """Find the numbers and compare."""
        if trial.output is None:
            return _no_answer(self)
        numbers = [float(n.replace(",", "")) for n in _NUMBER.findall(trial.output)]
        if not numbers:
            return self.verdict(False, f"The answer has no number: {shown(trial.output)}.")
        allowed = max(self.tolerance, self.relative * abs(self.value))
        candidates = numbers[-1:] if self.last else numbers
        close = [n for n in candidates if math.isclose(n, self.value, rel_tol=0, abs_tol=allowed)]
        found = close[0] if close else candidates[-1]
        return self.verdict(
            bool(close),
            f"Expected {self.value:g} (within {allowed:g}), found {found:g}.",
            expected=self.value,
            actual=found,
        )
