"""Output scorers on real trial contexts: both outcomes, and explanations that show both sides."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from covey.evals._results import ScoreResult
from covey.evals._scorers_output import (
    ContainsScorer,
    ExactScorer,
    JSONScorer,
    NormalizedScorer,
    NumberScorer,
    RegexScorer,
    normalize,
)
from covey.evals._scorers_python import FunctionScorer, PythonScorer, scorer
from covey.evals._trial import Scorer, TrialContext
from covey.evals._world import World


def trial(output: str | None, tmp_path: Path) -> TrialContext:
    world = World(
        root=tmp_path,
        files_root=tmp_path / "files",
        db_path=tmp_path / "world.db",
        memory_path=tmp_path / "memory.db",
    )
    return TrialContext(
        case_id="c", input="task", output=output, tool_calls=[], messages=[], world=world
    )


async def verdict(scorer: Scorer, output: str | None, tmp_path: Path) -> ScoreResult:
    return await scorer.score(trial(output, tmp_path))


async def test_exact_passes_on_the_stripped_answer_and_fails_showing_both(tmp_path: Path) -> None:
    scorer = ExactScorer(value="42")
    good = await verdict(scorer, "  42\n", tmp_path)
    bad = await verdict(scorer, "41", tmp_path)
    assert (good.passed, good.value, good.name) == (True, 1.0, "exact")
    assert (bad.passed, bad.value) == (False, 0.0)
    assert '"42"' in bad.explanation and '"41"' in bad.explanation


async def test_normalized_ignores_case_accents_and_punctuation(tmp_path: Path) -> None:
    scorer = NormalizedScorer(value="Café au lait")
    assert (await verdict(scorer, "cafe AU lait!", tmp_path)).passed
    bad = await verdict(scorer, "tea", tmp_path)
    assert not bad.passed
    assert '"cafe au lait"' in bad.explanation and '"tea"' in bad.explanation
    assert normalize("  Ünïcode,   TEXT ") == "unicode text"


async def test_contains_all_any_and_case(tmp_path: Path) -> None:
    both = ContainsScorer(values=["Paris", "France"])
    assert (await verdict(both, "paris is in france", tmp_path)).passed
    bad = await verdict(both, "Paris, Texas", tmp_path)
    assert not bad.passed
    assert '"France"' in bad.explanation and "Paris, Texas" in bad.explanation
    assert bad.metadata["missing"] == ["France"]
    either = ContainsScorer(values=["Lyon", "Paris"], any=True)
    assert (await verdict(either, "Paris", tmp_path)).passed
    strict = ContainsScorer(value="Paris", case_sensitive=True)
    assert not (await verdict(strict, "paris", tmp_path)).passed


async def test_contains_without_text_is_a_failed_score_saying_so(tmp_path: Path) -> None:
    result = await verdict(ContainsScorer(), "anything", tmp_path)
    assert not result.passed
    assert "value or values" in result.explanation


async def test_regex_searches_and_reports_the_match(tmp_path: Path) -> None:
    scorer = RegexScorer(pattern=r"order #\d+", ignore_case=True)
    good = await verdict(scorer, "Created ORDER #123 for you.", tmp_path)
    assert good.passed and good.metadata["match"] == "ORDER #123"
    bad = await verdict(scorer, "no order made", tmp_path)
    assert not bad.passed
    assert r"/order #\d+/" in bad.explanation and "no order made" in bad.explanation


def test_a_broken_regex_is_refused_when_the_suite_is_read() -> None:
    with pytest.raises(pydantic.ValidationError, match="not a regular expression"):
        RegexScorer(pattern="(unclosed")


async def test_json_is_found_in_a_fenced_block_and_compared_by_value(tmp_path: Path) -> None:
    scorer = JSONScorer(value={"a": 1, "b": [1, 2]})
    fenced = 'Here you go:\n```json\n{"b": [1, 2],\n "a": 1}\n```\nDone.'
    assert (await verdict(scorer, fenced, tmp_path)).passed
    assert (await verdict(scorer, 'Result: {"a": 1, "b": [1, 2]}', tmp_path)).passed
    listed = JSONScorer(value=[1, {"a": 2}])
    assert (await verdict(listed, 'Answer: [1, {"a": 2}] as asked.', tmp_path)).passed
    bad = await verdict(scorer, '{"a": 2, "b": [1, 2]}', tmp_path)
    assert not bad.passed
    assert '{"a": 1, "b": [1, 2]}' in bad.explanation and '{"a": 2' in bad.explanation
    none = await verdict(scorer, "no json here", tmp_path)
    assert not none.passed and "holds no JSON" in none.explanation


async def test_number_reads_commas_and_respects_tolerances(tmp_path: Path) -> None:
    assert (await verdict(NumberScorer(value=1234567), "Total: 1,234,567.", tmp_path)).passed
    loose = NumberScorer(value=3.14, tolerance=0.01)
    assert (await verdict(loose, "pi is about 3.141", tmp_path)).passed
    relative = NumberScorer(value=1000, relative=0.05)
    assert (await verdict(relative, "roughly 1040", tmp_path)).passed
    bad = await verdict(relative, "roughly 1100", tmp_path)
    assert not bad.passed
    assert "Expected 1000" in bad.explanation and "found 1100" in bad.explanation
    assert bad.metadata == {"expected": 1000, "actual": 1100}


async def test_number_uses_the_last_number_unless_told_otherwise(tmp_path: Path) -> None:
    text = "Of 12 items, 7 were sold."
    assert not (await verdict(NumberScorer(value=12), text, tmp_path)).passed
    assert (await verdict(NumberScorer(value=12, last=False), text, tmp_path)).passed
    empty = await verdict(NumberScorer(value=1), "none at all", tmp_path)
    assert not empty.passed and "has no number" in empty.explanation


@pytest.mark.parametrize(
    "scorer",
    [
        ExactScorer(value="x"),
        NormalizedScorer(value="x"),
        ContainsScorer(value="x"),
        RegexScorer(pattern="x"),
        JSONScorer(value=1),
        NumberScorer(value=1),
    ],
)
async def test_no_answer_fails_every_output_scorer_saying_why(
    scorer: Scorer, tmp_path: Path
) -> None:
    result = await verdict(scorer, None, tmp_path)
    assert not result.passed and result.value == 0.0
    assert "no final answer" in result.explanation


async def test_a_label_names_the_score(tmp_path: Path) -> None:
    result = await verdict(ExactScorer(value="a", label="capital"), "a", tmp_path)
    assert result.name == "capital"


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(pydantic.ValidationError, match="extra"):
        ExactScorer.model_validate({"type": "exact", "value": "a", "valeu": "b"})


# -- custom Python scorers (they score the answer too) --------------------------------------

HERE = __name__


def mentions_paris(trial: TrialContext) -> bool:
    return "paris" in (trial.output or "").lower()


async def length_score(trial: TrialContext) -> float:
    return min(len(trial.output or "") / 10, 1.0)


def detailed(trial: TrialContext) -> ScoreResult:
    return ScoreResult(name="detailed", value=0.25, passed=False, explanation="too terse")


def says_yes(trial: TrialContext) -> str:
    return "yes"


async def test_python_scorer_reads_bools_numbers_and_results(tmp_path: Path) -> None:
    sync = PythonScorer(function=f"{HERE}:mentions_paris")
    assert (await verdict(sync, "Paris.", tmp_path)).passed
    no = await verdict(sync, "Lyon.", tmp_path)
    assert not no.passed and no.value == 0.0 and no.name == "python"
    asynchronous = PythonScorer(function=f"{HERE}:length_score", label="length")
    long = await verdict(asynchronous, "a long enough answer", tmp_path)
    assert long.passed and long.value == 1.0 and long.name == "length"
    short = await verdict(asynchronous, "abc", tmp_path)
    assert not short.passed and short.value == pytest.approx(0.3)
    assert "returned 0.3 (passes at 0.5)" in short.explanation
    result = await verdict(PythonScorer(function=f"{HERE}:detailed"), "x", tmp_path)
    assert result == detailed(trial("x", tmp_path))


async def test_python_scorer_failures_are_failed_scores_that_say_why(tmp_path: Path) -> None:
    gone = await verdict(PythonScorer(function="no_such_module_xyz:f"), "x", tmp_path)
    assert not gone.passed and "Could not import 'no_such_module_xyz'" in gone.explanation
    missing = await verdict(PythonScorer(function=f"{HERE}:nothing"), "x", tmp_path)
    assert not missing.passed and "has no 'nothing'" in missing.explanation
    constant = await verdict(PythonScorer(function=f"{HERE}:HERE"), "x", tmp_path)
    assert not constant.passed and "not a function" in constant.explanation
    wrong = await verdict(PythonScorer(function=f"{HERE}:says_yes"), "x", tmp_path)
    assert not wrong.passed
    assert 'returned "yes"; a scorer must return a ScoreResult' in wrong.explanation


def test_python_scorer_needs_module_and_function() -> None:
    with pytest.raises(pydantic.ValidationError, match="is not module:function"):
        PythonScorer(function="mentions_paris")


async def test_function_scorers_for_python_suites(tmp_path: Path) -> None:
    named = FunctionScorer(mentions_paris, name="paris")
    assert isinstance(named, Scorer) and named.name == "paris"
    assert (await verdict(named, "PARIS", tmp_path)).passed
    decorated = scorer(length_score)
    assert decorated.name == "length_score"
    assert not (await verdict(decorated, "ab", tmp_path)).passed
