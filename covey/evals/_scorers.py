"""Every built-in scorer, as one tagged union that YAML suites and the JSON Schema use."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ._judge import JudgeScorer
from ._scorers_env import SaidScorer, StateScorer
from ._scorers_output import (
    ContainsScorer,
    ExactScorer,
    JSONScorer,
    NormalizedScorer,
    NumberScorer,
    RegexScorer,
)
from ._scorers_python import PythonScorer
from ._scorers_state import FileScorer, MemoryScorer, SQLScorer
from ._scorers_trajectory import ToolCalledScorer, ToolErrorsScorer, ToolSequenceScorer

__all__ = ["ScorerSpec"]

ScorerSpec = Annotated[
    ExactScorer
    | NormalizedScorer
    | ContainsScorer
    | RegexScorer
    | JSONScorer
    | NumberScorer
    | FileScorer
    | SQLScorer
    | MemoryScorer
    | StateScorer
    | SaidScorer
    | ToolCalledScorer
    | ToolSequenceScorer
    | ToolErrorsScorer
    | JudgeScorer
    | PythonScorer,
    Field(discriminator="type"),
]
"""A built-in scorer as written in a suite: `{type: contains, value: "42"}`."""
