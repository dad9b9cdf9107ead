"""Every built-in scorer, as one tagged union that YAML suites and the JSON Schema use."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ._scorers_output import (
    ContainsScorer,
    ExactScorer,
    JSONScorer,
    NormalizedScorer,
    NumberScorer,
    RegexScorer,
)

__all__ = ["ScorerSpec"]

ScorerSpec = Annotated[
    ExactScorer | NormalizedScorer | ContainsScorer | RegexScorer | JSONScorer | NumberScorer,
    Field(discriminator="type"),
]
"""A built-in scorer as written in a suite: `{type: contains, value: "42"}`."""
