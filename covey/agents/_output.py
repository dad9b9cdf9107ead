"""Structured output: how an agent makes the model answer with an instance of a pydantic type.

The strongest form the server has wins: its structured output when the agent has no tools
(a JSON grammar would stop the model from calling tools), else a final-answer tool, else
JSON asked for in the prompt; every form is validated, and a failure goes back to the
model with what was wrong.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any, Literal

import pydantic

from ..models import OutputSchema, ToolDefinition
from ..models._dialect_calls import strip_fence

__all__ = ["FINAL_TOOL", "OutputPlan", "plan_output", "validate_output"]

FINAL_TOOL = "final_answer"


@dataclass(kw_only=True, slots=True, frozen=True)
class OutputPlan:
    """How this run gets its structured answer."""

    mode: Literal["text", "schema", "final_tool"]
    """`text`: plain text; `schema`: the model layer's structured output (response format,
    constrained envelope or prompt); `final_tool`: a tool the model calls with the answer."""
    output_type: type[pydantic.BaseModel] | None = None
    """The type to validate against."""
    schema: OutputSchema | None = None
    """The JSON schema for the model layer (mode `schema`)."""
    final_tool: ToolDefinition | None = None
    """The final-answer tool (mode `final_tool`)."""


def _schema_name(output_type: type[pydantic.BaseModel]) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in output_type.__name__)


def _schema(output_type: type[pydantic.BaseModel]) -> dict[str, Any]:
    schema = output_type.model_json_schema()
    schema.pop("title", None)
    return schema


# Building a JSON schema costs about 0.5 ms, and a run used to build it on every turn. The
# plans are immutable and nothing changes the schema dicts (requests copy or serialize them).
@functools.lru_cache(maxsize=256)
def plan_output(
    output_type: type[pydantic.BaseModel] | None, *, has_tools: bool, native_tools: bool
) -> OutputPlan:
    """Choose the form for this agent and server (one plan per type and form, kept)."""
    if output_type is None:
        return OutputPlan(mode="text")
    if has_tools and native_tools:
        final_tool = ToolDefinition(
            name=FINAL_TOOL,
            description="Give your final answer. Call this once, when you are done.",
            parameters=_schema(output_type),
        )
        return OutputPlan(mode="final_tool", output_type=output_type, final_tool=final_tool)
    schema = OutputSchema(name=_schema_name(output_type), schema=_schema(output_type))
    return OutputPlan(mode="schema", output_type=output_type, schema=schema)


def validate_output(
    output_type: type[pydantic.BaseModel], data: str | dict[str, Any]
) -> pydantic.BaseModel | str:
    """Validate an answer; returns the instance, or a message for the model saying what to fix."""
    try:
        if isinstance(data, str):
            return output_type.model_validate_json(strip_fence(data))
        return output_type.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(answer)'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        schema = json.dumps(_schema(output_type))
        return (
            f"Your answer does not match the required format ({problems}). "
            f"Answer again with only JSON that follows this schema: {schema}"
        )
