"""Suites from YAML and Python: clear errors, the published JSON Schema, selection."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from covey import UsageError
from covey.evals import Case, ContainsScorer, Suite, load_suite, suite_schema
from covey.evals._results import ScoreResult
from covey.evals._suite_load import parse_suite, schema_text
from covey.evals._trial import TrialContext

from .policies import MINI, RIDDLES

ROOT = Path(__file__).parents[2]
PUBLISHED = ROOT / "covey" / "evals" / "suite.schema.json"


def test_the_published_schema_is_the_one_the_code_validates_with() -> None:
    assert PUBLISHED.read_text() == schema_text(), (
        "covey/evals/suite.schema.json is stale: regenerate it with "
        "`covey eval --schema > covey/evals/suite.schema.json`"
    )


def _repository_suites() -> list[tuple[str, str]]:
    """Every YAML suite in the repository, by name: the files, and the README's examples."""
    files = [
        (path.relative_to(ROOT).as_posix(), path.read_text())
        for folder in ("covey", "tests", "examples", "benchmarks")
        for pattern in ("*.yaml", "*.yml")
        for path in sorted((ROOT / folder).rglob(pattern))
    ]
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    examples = [(f"README.md, yaml block {i}", b) for i, b in enumerate(blocks) if "cases:" in b]
    return files + examples


SUITES = _repository_suites()


def test_the_suites_of_the_repository_are_all_found() -> None:
    names = {name for name, _ in SUITES}
    shipped = {"covey/evals/suites/builtin.yaml", MINI.relative_to(ROOT).as_posix()}
    assert shipped | {RIDDLES.relative_to(ROOT).as_posix()} <= names
    assert any(name.startswith("README.md") for name in names)


@pytest.mark.parametrize(("name", "text"), SUITES, ids=[name for name, _ in SUITES])
def test_every_yaml_suite_in_the_repository_is_valid(name: str, text: str) -> None:
    jsonschema.validate(yaml.safe_load(text), suite_schema())
    assert parse_suite(text, name).cases


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\ncases: [", "not valid YAML"),
        ("- a\n- b\n", "must be a mapping"),
        (
            "name: x\ncases:\n  - {id: a, input: hi, scorers: [{type: contanis, value: '1'}]}\n",
            "cases[0] (id 'a').scorers[0]",
        ),
        ("name: x\ncases:\n  - {id: a, input: hi, scorers: []}\n", "case 'a' has no scorers"),
        (
            "name: x\ncases:\n"
            "  - {id: a, input: hi, scorers: [{type: exact, value: '1'}]}\n"
            "  - {id: a, input: ho, scorers: [{type: exact, value: '1'}]}\n",
            "case id 'a' appears twice",
        ),
        (
            "name: x\ncases:\n  - id: a\n    input: hi\n    scorers: [{type: exact, value: '1'}]\n"
            "    solution: [{tool: t, answer: both}]\n",
            "either {tool, arguments} or {answer}",
        ),
    ],
)
def test_a_broken_suite_says_where_and_what(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_suite(text, "mine.yaml")
    assert message in str(caught.value)
    assert "mine.yaml" in str(caught.value)


def test_suites_load_from_files_python_and_by_tag(tmp_path: Path) -> None:
    suite = load_suite(str(MINI))
    assert [c.id for c in suite.select(tags=["quick"]).cases] == [
        "calc-multiply",
        "files-launch-code",
    ]
    with pytest.raises(UsageError, match="neither a YAML file nor module:attribute"):
        load_suite("nothing-here")
    with pytest.raises(UsageError, match="Cannot read suite file"):
        load_suite(str(tmp_path / "missing.yaml"))
    module = tmp_path / "my_suite_module.py"
    module.write_text(
        "from covey.evals import Case, ContainsScorer, Suite\n"
        "def suite():\n"
        "    return Suite(name='py', cases=[Case(id='a', input='x', "
        "scorers=[ContainsScorer(value='y')])])\n"
    )
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        loaded = load_suite("my_suite_module:suite")
    finally:
        sys.path.remove(str(tmp_path))
    assert loaded.name == "py" and isinstance(loaded.cases[0].scorers[0], ContainsScorer)


def test_python_suites_take_any_scorer_object_and_keep_it_out_of_the_schema() -> None:
    class Always:
        name = "always"

        async def score(self, trial: TrialContext) -> ScoreResult:
            raise AssertionError("not called here")

    case = Case(id="a", input="x", scorers=[Always()])
    assert Suite(name="s", cases=[case]).cases[0].scorers[0].name == "always"
    schema = json.dumps(suite_schema())
    assert "Python suites only" in schema and "agent" not in suite_schema()["properties"]
