"""The JSON report and its schema (`covey/rating/rating.schema.json`, versioned)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .models import Rating

__all__ = ["SCHEMA_PATH", "json_report", "read_json_report", "rating_schema"]

SCHEMA_PATH = Path(__file__).with_name("rating.schema.json")
"""The published JSON Schema of a report; a test keeps it equal to `rating_schema()`."""


def rating_schema() -> dict[str, Any]:
    """The JSON Schema of `covey rate --json` output, from the pydantic models."""
    schema = Rating.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def json_report(rating: Rating) -> str:
    """The rating as indented JSON."""
    return rating.model_dump_json(indent=2) + "\n"


def read_json_report(path: Path) -> Rating:
    """A rating read back from a JSON report."""
    return Rating.model_validate(json.loads(path.read_text(encoding="utf-8")))
