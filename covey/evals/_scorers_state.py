"""End-state scorers: the files, database rows and memory the agent left (the tau-bench idea).

Each scorer reads the trial's world after the agent has finished and compares one part of
it with what the case expects, saying what it expected and what it found.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .._errors import CoveyError
from ._results import ScoreResult
from ._scorers_output import ScorerBase
from ._trial import TrialContext, shown

__all__ = ["FileScorer", "MemoryScorer", "RelationCheck", "SQLScorer"]


def _only_one(model: BaseModel, names: tuple[str, ...], what: str) -> None:
    given = [n.removesuffix("_value") for n in names if n in model.model_fields_set]
    if len(given) != 1:
        keys = ", ".join(n.removesuffix("_value") for n in names)
        found = ", ".join(given) or "none"
        raise ValueError(f"{what} needs exactly one of {keys}; got {found}.")


def _compiles(pattern: str | None) -> str | None:
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from exc
    return pattern


def _same(expected: Any, actual: Any) -> bool:
    """Equal, with numbers compared by value (a REAL 3.0 equals 3) within float rounding."""
    numbers = (int, float)
    if isinstance(expected, numbers) and isinstance(actual, numbers):
        if isinstance(expected, bool) or isinstance(actual, bool):
            return expected == actual
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9)
    return bool(expected == actual)


def _same_row(expected: list[Any], actual: list[Any]) -> bool:
    return len(expected) == len(actual) and all(map(_same, expected, actual))


def _tidy(text: str) -> str:
    """Text with trailing whitespace dropped from each line and from the end."""
    return "\n".join(line.rstrip() for line in text.splitlines()).rstrip()


def _first_difference(expected: str, actual: str) -> str:
    wanted, found = expected.split("\n"), actual.split("\n")
    for number, (a, b) in enumerate(zip(wanted, found, strict=False), start=1):
        if a != b:
            return f"line {number}: expected {shown(a)}, found {shown(b)}"
    longer, which = (wanted, "expected") if len(wanted) > len(found) else (found, "found")
    extra = longer[min(len(wanted), len(found))]
    return f"line {min(len(wanted), len(found)) + 1}: only the {which} text has {shown(extra)}"


_FILE_CHECKS = ("equals", "contains", "regex", "json_value", "exists")


class FileScorer(ScorerBase):
    """A file under the world's files root: its text, a part of it, its JSON, or its absence.

    Give exactly one check: `equals`, `contains`, `regex`, `json` or `exists`.
    """

    model_config = ConfigDict(populate_by_name=True)

    type: Literal["file"] = "file"
    path: str = Field(min_length=1)
    """The file, relative to the files root."""
    equals: str | None = None
    """The whole text, compared after dropping trailing whitespace on each line and the end."""
    contains: str | list[str] | None = None
    """Text (or texts) the file must contain."""
    regex: str | None = None
    """A regular expression the file's text must match (searched, not anchored)."""
    json_value: Any = Field(default=None, alias="json")
    """A JSON value the file, parsed, must equal."""
    exists: bool | None = None
    """`false`: the file must not exist; `true`: it must exist."""
    ignore_case: bool = False
    """Compare `contains` and `regex` regardless of case."""

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, pattern: str | None) -> str | None:
        return _compiles(pattern)

    @model_validator(mode="after")
    def _one_check(self) -> Self:
        _only_one(self, _FILE_CHECKS, "A file scorer")
        return self

    async def score(self, trial: TrialContext) -> ScoreResult:
        """Read the file and check it."""
        try:
            text = trial.world.read_file(self.path)
        except (CoveyError, OSError) as exc:
            return self.verdict(False, f"Could not read {self.path!r}: {exc}")
        if self.exists is not None:
            found = "exists" if text is not None else "does not exist"
            wanted = "exist" if self.exists else "not exist"
            return self.verdict(
                (text is not None) == self.exists,
                f"Expected {self.path!r} to {wanted}; it {found}.",
                exists=text is not None,
            )
        if text is None:
            return self.verdict(False, f"Expected file {self.path!r}, but it does not exist.")
        if self.equals is not None:
            return self._equals(self.equals, text)
        if self.contains is not None:
            return self._contains(text)
        if self.regex is not None:
            return self._regex(self.regex, text)
        return self._json(text)

    def _equals(self, expected: str, text: str) -> ScoreResult:
        wanted, found = _tidy(expected), _tidy(text)
        if wanted == found:
            return self.verdict(True, f"{self.path!r} has the expected text.")
        return self.verdict(
            False,
            f"{self.path!r} differs from the expected text at {_first_difference(wanted, found)}.",
            expected=wanted,
            actual=found,
        )

    def _contains(self, text: str) -> ScoreResult:
        wanted = [self.contains] if isinstance(self.contains, str) else list(self.contains or [])

        def fold(value: str) -> str:
            return value.casefold() if self.ignore_case else value

        missing = [w for w in wanted if fold(w) not in fold(text)]
        if not missing:
            return self.verdict(True, f"{self.path!r} contains {shown(wanted)}.", missing=[])
        return self.verdict(
            False,
            f"{self.path!r} lacks {shown(missing)}; its text is {shown(text)}.",
            missing=missing,
        )

    def _regex(self, pattern: str, text: str) -> ScoreResult:
        found = re.search(pattern, text, re.IGNORECASE if self.ignore_case else 0)
        if found:
            return self.verdict(
                True, f"{self.path!r} matches: {shown(found.group(0))}.", match=found.group(0)
            )
        return self.verdict(
            False, f"No match for /{pattern}/ in {self.path!r}, whose text is {shown(text)}."
        )

    def _json(self, text: str) -> ScoreResult:
        try:
            found = json.loads(text)
        except json.JSONDecodeError as exc:
            return self.verdict(
                False,
                f"Expected JSON in {self.path!r}, but it does not parse ({exc}): {shown(text)}.",
            )
        return self.verdict(
            found == self.json_value,
            f"Expected {self.path!r} to hold JSON {shown(self.json_value)}, found {shown(found)}.",
            expected=self.json_value,
            actual=found,
        )


class SQLScorer(ScorerBase):
    """A read-only query on the world's database returns the expected rows, value or count.

    Give exactly one of `rows`, `value` or `count`.
    """

    type: Literal["sql"] = "sql"
    query: str = Field(min_length=1)
    """The SQL query (run read-only)."""
    rows: list[list[Any]] | None = None
    """The rows expected, each a list of column values."""
    ordered: bool = False
    """Compare `rows` in order; by default their order does not matter."""
    value: Any = None
    """The one value expected: the query must return one row of one column."""
    count: int | None = Field(default=None, ge=0)
    """The number of rows expected."""

    @model_validator(mode="after")
    def _one_check(self) -> Self:
        _only_one(self, ("rows", "value", "count"), "An sql scorer")
        return self

    async def score(self, trial: TrialContext) -> ScoreResult:
        """Run the query and compare."""
        try:
            found = [list(row) for row in await trial.world.query(self.query)]
        except sqlite3.Error as exc:
            return self.verdict(
                False, f"The query failed: {exc}. Query: {shown(self.query)}", error=str(exc)
            )
        if self.count is not None:
            return self.verdict(
                len(found) == self.count,
                f"Expected {self.count} row(s), the query returned {len(found)}.",
                expected=self.count,
                actual=len(found),
            )
        if self.rows is not None:
            return self._rows(self.rows, found)
        if len(found) != 1 or len(found[0]) != 1:
            return self.verdict(
                False,
                f"Expected one value {shown(self.value)}, but the query returned "
                f"{len(found)} row(s): {shown(found)}.",
                expected=self.value,
                actual=found,
            )
        actual = found[0][0]
        return self.verdict(
            _same(self.value, actual),
            f"Expected {shown(self.value)}, the query returned {shown(actual)}.",
            expected=self.value,
            actual=actual,
        )

    def _rows(self, expected: list[list[Any]], found: list[list[Any]]) -> ScoreResult:
        if self.ordered:
            passed = len(expected) == len(found) and all(map(_same_row, expected, found))
        else:
            left = list(found)
            passed = True
            for row in expected:
                match = next((r for r in left if _same_row(row, r)), None)
                if match is None:
                    passed = False
                    break
                left.remove(match)
            passed = passed and not left
        order = "in this order" if self.ordered else "in any order"
        return self.verdict(
            passed,
            f"Expected rows {shown(expected)} ({order}), the query returned {shown(found)}.",
            expected=expected,
            actual=found,
        )


class RelationCheck(BaseModel):
    """An outgoing relation a memory entity must have: `entity type to`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    to: str = Field(min_length=1)
    """The target entity's name."""
    type: str = Field(min_length=1)
    """The relation type, e.g. `works_at`."""


class MemoryScorer(ScorerBase):
    """An entity in the memory graph: it exists (with a type, observation, relation) or not."""

    type: Literal["memory"] = "memory"
    entity: str = Field(min_length=1)
    """The entity's name (exact)."""
    entity_type: str | None = None
    """The type it must have."""
    observation: str | None = None
    """Text that one of its observations must contain (case-insensitive)."""
    relation: RelationCheck | None = None
    """An outgoing relation it must have."""
    absent: bool = False
    """The entity must not exist."""

    @model_validator(mode="after")
    def _absent_alone(self) -> Self:
        checks = (self.entity_type, self.observation, self.relation)
        if self.absent and any(c is not None for c in checks):
            raise ValueError(
                "A memory scorer with absent: true cannot also check entity_type, observation "
                "or relation: the entity must not exist at all."
            )
        return self

    async def score(self, trial: TrialContext) -> ScoreResult:
        """Read the graph and check the entity."""
        graph = await trial.world.graph()
        entity = next((e for e in graph.entities if e.name == self.entity), None)
        if self.absent:
            return self.verdict(
                entity is None,
                f"Expected no entity {self.entity!r} in memory; "
                + ("it exists." if entity else "there is none."),
            )
        if entity is None:
            names = [e.name for e in graph.entities]
            return self.verdict(
                False,
                f"Expected entity {self.entity!r} in memory; the entities are {shown(names)}.",
            )
        failures: list[str] = []
        if self.entity_type is not None and entity.entity_type != self.entity_type:
            failures.append(f"its type is {entity.entity_type!r}, expected {self.entity_type!r}")
        if self.observation is not None:
            needle = self.observation.casefold()
            if not any(needle in o.casefold() for o in entity.observations):
                failures.append(
                    f"no observation contains {self.observation!r} "
                    f"(observations: {shown(entity.observations)})"
                )
        if self.relation is not None:
            outgoing = [r for r in graph.relations if r.source == self.entity]
            wanted = (self.relation.type, self.relation.to)
            if not any((r.relation_type, r.target) == wanted for r in outgoing):
                have = [f"{r.relation_type} {r.target}" for r in outgoing]
                failures.append(
                    f"it has no relation {self.relation.type!r} to {self.relation.to!r} "
                    f"(its relations: {shown(have)})"
                )
        if failures:
            return self.verdict(False, f"Entity {self.entity!r}: " + "; ".join(failures) + ".")
        return self.verdict(True, f"Entity {self.entity!r} is in memory as expected.")
