"""Python functions as tools: schemas from signatures and docstrings, validation, results."""

from __future__ import annotations

from typing import Literal

import pydantic
import pytest

from covey import UsageError
from covey.tools import FunctionTool, RunContext, ToolResult, tool

CONTEXT = RunContext(deps=None, agent="t")


class Point(pydantic.BaseModel):
    x: int
    y: int


@tool
async def move(point: Point, direction: Literal["up", "down"], steps: int = 1) -> Point:
    """Move a point up or down.

    Args:
        point: where to start.
        direction: which way to go.
        steps: how far; one by default.
    """
    dy = steps if direction == "up" else -steps
    return Point(x=point.x, y=point.y + dy)


def test_schema_comes_from_hints_defaults_and_docstring() -> None:
    definition = move.definition
    assert definition.name == "move"
    assert definition.description == "Move a point up or down."
    params = definition.parameters
    assert params["required"] == ["point", "direction"]
    assert params["properties"]["direction"] == {
        "description": "which way to go.",
        "enum": ["up", "down"],
        "type": "string",
    }
    assert params["properties"]["steps"]["default"] == 1
    assert "Point" in str(params["$defs"])


async def test_valid_arguments_run_and_results_become_json() -> None:
    result = await move.call({"point": {"x": 1, "y": 1}, "direction": "up", "steps": 2}, CONTEXT)
    assert result == ToolResult(content='{"x":1,"y":3}', structured={"x": 1, "y": 3})


async def test_invalid_arguments_become_an_error_for_the_model() -> None:
    result = await move.call({"point": {"x": "a"}, "direction": "left", "extra": 1}, CONTEXT)
    assert result.is_error and result.invalid_arguments
    assert "point.x: Input should be a valid integer" in result.content
    assert "point.y: Field required" in result.content
    assert "direction: Input should be 'up' or 'down'" in result.content
    assert "extra: Extra inputs are not permitted" in result.content


async def test_sync_functions_and_errors_inside_tools() -> None:
    @tool(name="divide")
    def div(a: float, b: float) -> float:
        """Divide a by b."""
        return a / b

    assert (await div.call({"a": 1, "b": 4}, CONTEXT)).content == "0.25"
    failed = await div.call({"a": 1, "b": 0}, CONTEXT)
    assert failed.is_error and not failed.invalid_arguments
    assert failed.content == "Tool 'divide' failed: ZeroDivisionError: float division by zero"


def test_unusable_functions_are_refused_with_the_fix() -> None:
    def variadic(*args: int) -> int:
        return sum(args)

    with pytest.raises(UsageError, match="named parameters"):
        FunctionTool(variadic)
    with pytest.raises(UsageError, match="not usable by models"):
        FunctionTool(lambda: 1, name="has space")
