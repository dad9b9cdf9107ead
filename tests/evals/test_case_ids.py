"""Case ids as benchmarks write them: brackets, colons, slashes."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from covey import ModelClient, ModelConfig, UsageError
from covey.evals import run_eval, suite_schema
from covey.evals._oracle import replay_policy
from covey.evals._report_html import write_html_report
from covey.evals._suite_load import parse_suite
from covey.store import Store
from covey.testing import ScriptedModelServer

IDS = ["retail[3]", "bfcl:simple_12", "HumanEval/7", "tau(airline)+2@v1"]

SUITE = "name: bench\ncases:\n" + "".join(
    f"  - id: '{case_id}'\n"
    f"    input: Answer {n}.\n"
    f"    scorers: [{{type: contains, value: '{n}'}}]\n"
    f"    solution: [{{answer: 'It is {n}.'}}]\n"
    for n, case_id in enumerate(IDS)
)


async def test_benchmark_style_case_ids_load_run_and_report(tmp_path: Path) -> None:
    jsonschema.validate(yaml.safe_load(SUITE), suite_schema())
    suite = parse_suite(SUITE, "bench.yaml")
    assert [c.id for c in suite.select(ids=["retail[3]", "HumanEval/7"]).cases] == [
        "retail[3]",
        "HumanEval/7",
    ]
    async with (
        ScriptedModelServer(policy=replay_policy(suite, "solution")) as server,
        ModelClient(ModelConfig(base_url=server.base_url, model="m")) as model,
        Store(f"sqlite:///{tmp_path / 'evals.db'}") as store,
    ):
        results = await run_eval(suite, model, store=store, run_id="r", label="m")
    assert {t.case_id: t.status for t in results.trials} == dict.fromkeys(IDS, "passed")
    html = write_html_report(tmp_path / "r.html", results).read_text()
    assert 'data-case-id="bfcl:simple_12"' in html and 'data-case-id="retail[3]"' in html


@pytest.mark.parametrize("case_id", ["two words", "a,b", "-leading", ""])
def test_an_id_a_list_or_shell_would_split_is_refused_saying_what_is_allowed(
    case_id: str,
) -> None:
    case = f"{{id: '{case_id}', input: x, scorers: [{{type: exact, value: x}}]}}"
    text = f"name: s\ncases:\n  - {case}"
    with pytest.raises(UsageError) as caught:
        parse_suite(text, "s.yaml")
    assert f"cases[0] (id {case_id!r}).id: Value error, case id {case_id!r} is not allowed" in (
        str(caught.value)
    )
    assert "letters, digits and _ . - : / [ ] ( ) + @" in str(caught.value)
