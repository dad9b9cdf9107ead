"""Trajectory scorers on the tool calls of a trial."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic
import pytest

from covey.evals._results import ScoreResult
from covey.evals._scorers_trajectory import ToolCalledScorer, ToolErrorsScorer, ToolSequenceScorer
from covey.evals._trial import Scorer, ToolCallRecord, TrialContext
from covey.evals._world import World


def record(name: str, *, error: bool = False, **arguments: Any) -> ToolCallRecord:
    result = "Error: no such file" if error else "ok"
    return ToolCallRecord(name=name, arguments=arguments, result=result, is_error=error)


CALLS = [
    record("list_files", path="."),
    record("read_file", path="a.txt", error=True),
    record("read_file", path="b.txt", encoding="utf-8"),
    record("write_file", path="c.txt", content="hi"),
]


async def check(scorer: Scorer, tmp_path: Path, calls: list[ToolCallRecord] = CALLS) -> ScoreResult:
    world = World(
        root=tmp_path,
        files_root=tmp_path / "files",
        db_path=tmp_path / "world.db",
        memory_path=tmp_path / "memory.db",
    )
    context = TrialContext(
        case_id="c", input="task", output="done", tool_calls=calls, messages=[], world=world
    )
    return await scorer.score(context)


def called(**data: Any) -> ToolCalledScorer:
    return ToolCalledScorer.model_validate({"type": "tool_called", **data})


async def test_tool_called_counts_calls_by_name(tmp_path: Path) -> None:
    assert (await check(called(name="read_file"), tmp_path)).passed
    assert (await check(called(name="read_file", min_times=2, max_times=2), tmp_path)).passed
    too_many = await check(called(name="read_file", max_times=1), tmp_path)
    assert not too_many.passed
    assert "at most 1 call(s) to 'read_file'" in too_many.explanation
    assert "found 2 matching" in too_many.explanation


async def test_tool_called_never_called_lists_what_was(tmp_path: Path) -> None:
    result = await check(called(name="delete_file"), tmp_path)
    assert not result.passed
    assert "Expected at least 1 call(s) to 'delete_file'" in result.explanation
    assert '["list_files", "read_file", "write_file"]' in result.explanation
    assert result.name == "tool_called"


async def test_tool_called_with_a_subset_of_arguments(tmp_path: Path) -> None:
    assert (await check(called(name="read_file", arguments={"path": "b.txt"}), tmp_path)).passed
    wrong = await check(called(name="read_file", arguments={"path": "z.txt"}), tmp_path)
    assert not wrong.passed
    assert '{"path": "z.txt"}' in wrong.explanation
    assert '[{"path": "a.txt"}, {"path": "b.txt", "encoding": "utf-8"}]' in wrong.explanation


async def test_tool_called_with_exact_arguments(tmp_path: Path) -> None:
    exact = called(name="read_file", arguments={"path": "b.txt"}, match="exact")
    result = await check(exact, tmp_path)
    assert not result.passed and "exactly" in result.explanation
    full = called(name="read_file", arguments={"path": "b.txt", "encoding": "utf-8"}, match="exact")
    assert (await check(full, tmp_path)).passed


async def test_tool_called_successful_only_skips_failed_calls(tmp_path: Path) -> None:
    scorer = called(name="read_file", arguments={"path": "a.txt"}, successful=True)
    result = await check(scorer, tmp_path)
    assert not result.passed and "successful calls only" in result.explanation
    assert (await check(called(name="read_file", arguments={"path": "a.txt"}), tmp_path)).passed


async def test_tool_called_absent(tmp_path: Path) -> None:
    assert (await check(called(name="delete_file", absent=True), tmp_path)).passed
    result = await check(called(name="write_file", absent=True), tmp_path)
    assert not result.passed
    assert "Expected no call to 'write_file'" in result.explanation
    assert '"content": "hi"' in result.explanation
    other_path = called(name="write_file", arguments={"path": "x.txt"}, absent=True)
    assert (await check(other_path, tmp_path)).passed


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "x", "absent": True, "min_times": 2}, "cannot also set min_times"),
        ({"name": "x", "min_times": 3, "max_times": 1}, "below min_times"),
        ({"name": "x", "match": "fuzzy"}, "'subset' or 'exact'"),
        ({"name": "", "min_times": 1}, "at least 1 character"),
    ],
)
def test_tool_called_refuses_contradictions(data: dict[str, Any], message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        called(**data)


async def test_sequence_ordered_allows_calls_in_between(tmp_path: Path) -> None:
    good = ToolSequenceScorer(names=["list_files", "write_file"])
    assert (await check(good, tmp_path)).passed
    backwards = await check(ToolSequenceScorer(names=["write_file", "list_files"]), tmp_path)
    assert not backwards.passed
    assert '["write_file", "list_files"] in that order' in backwards.explanation
    assert '["list_files", "read_file", "read_file", "write_file"]' in backwards.explanation
    repeated = ToolSequenceScorer(names=["read_file", "read_file", "read_file"])
    assert not (await check(repeated, tmp_path)).passed


async def test_sequence_exact(tmp_path: Path) -> None:
    names = ["list_files", "read_file", "read_file", "write_file"]
    assert (await check(ToolSequenceScorer(names=names, mode="exact"), tmp_path)).passed
    short = await check(ToolSequenceScorer(names=names[:3], mode="exact"), tmp_path)
    assert not short.passed and "exactly the calls" in short.explanation


async def test_sequence_set(tmp_path: Path) -> None:
    anyorder = ToolSequenceScorer(names=["write_file", "list_files"], mode="set")
    assert (await check(anyorder, tmp_path)).passed
    missing = await check(ToolSequenceScorer(names=["write_file", "grep"], mode="set"), tmp_path)
    assert not missing.passed and 'missing ["grep"]' in missing.explanation


async def test_sequence_with_no_calls(tmp_path: Path) -> None:
    result = await check(ToolSequenceScorer(names=["a"]), tmp_path, calls=[])
    assert not result.passed and "the calls were []" in result.explanation


async def test_tool_errors(tmp_path: Path) -> None:
    none_allowed = await check(ToolErrorsScorer(), tmp_path)
    assert not none_allowed.passed
    assert "at most 0 failed tool call(s); 1 of 4 failed" in none_allowed.explanation
    assert "no such file" in none_allowed.explanation
    assert (await check(ToolErrorsScorer(max=1), tmp_path)).passed
    clean = await check(ToolErrorsScorer(), tmp_path, calls=CALLS[2:])
    assert clean.passed and clean.explanation.endswith("0 of 2 failed.")


def test_tool_errors_max_cannot_be_negative() -> None:
    with pytest.raises(pydantic.ValidationError, match="greater than or equal to 0"):
        ToolErrorsScorer(max=-1)
