"""Environments in eval cases: a fresh one per trial, its tools, its end state, its close."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from covey import ModelClient, ModelConfig
from covey.evals import Case, EnvironmentSpec, ExactScorer, Suite, TrialSetup, load_suite
from covey.evals._oracle import replay_policy
from covey.evals._results import RunResults
from covey.evals._runner import EvalOptions, run_eval
from covey.store import Store
from covey.testing import Policy, ScriptedModelServer
from covey.tools import RunContext, Tool, Toolset, schema_tool

ROOT = Path(__file__).parents[2]
SHOP = ROOT / "examples" / "shop" / "suite.yaml"


async def evaluate(suite: Suite, policy: Policy, tmp_path: Path) -> RunResults:
    async with (
        ScriptedModelServer(policy=policy) as server,
        ModelClient(ModelConfig(base_url=server.base_url, model="m", max_retries=0)) as model,
        Store(f"sqlite:///{tmp_path}/s.db") as store,
    ):
        options = EvalOptions(attempts=1)
        return await run_eval(suite, model, store=store, run_id="r", label="m", options=options)


def test_the_shop_example_passes_covey_eval_check() -> None:
    cases = "ann-cancel-pending,ann-return-lamp-from-inbox,cy-cancel-shipped,product-teapot"
    done = subprocess.run(
        [sys.executable, "-m", "covey.cli", "eval", str(SHOP), "--check", "--cases", cases],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK: every solution passes and every scorer fails in some mistake." in done.stdout


async def test_a_dropped_write_fails_where_the_database_changed(tmp_path: Path) -> None:
    suite = load_suite(str(SHOP)).select(ids=["ann-cancel-pending"])
    solved = await evaluate(suite, replay_policy(suite, "solution"), tmp_path / "a")
    (trial,) = solved.trials
    assert trial.status == "passed", trial.scores
    # 13 function tools of the environment, none over MCP: every call counts as valid.
    assert trial.protocol.tool_calls == 4 and trial.protocol.valid_tool_name_rate == 1.0
    assert trial.protocol.schema_valid_argument_rate == 1.0
    dropped = await evaluate(suite, replay_policy(suite, "mistake"), tmp_path / "b")
    (trial,) = dropped.trials
    database = next(s for s in trial.scores if s.name == "database")  # the suite's scorer
    assert trial.status == "failed" and not database.passed
    assert "orders.O1001.status is 'pending', expected 'cancelled'" in database.explanation


class Probe:
    """An environment that records what happened to it."""

    made: ClassVar[list[Probe]] = []

    def __init__(self, setup: TrialSetup, label: str) -> None:
        self.setup, self.label, self.closed, self.calls = setup, label, False, 0
        self.existed = setup.directory.is_dir()
        Probe.made.append(self)

    def poke(self) -> str:
        self.calls += 1
        return '{"not": "re-encoded"}'

    def tools(self) -> Sequence[Tool | Toolset]:
        return [schema_tool(self.poke, {"type": "object", "properties": {}})]

    def state(self) -> dict[str, Any]:
        return {"calls": self.calls, "label": self.label}

    async def aclose(self) -> None:
        self.closed = True


def poke_then_answer(request: Any) -> Any:
    from covey.models import ToolCall
    from covey.testing import Reply

    if request.last_tool_result is None:
        return Reply(tool_calls=[ToolCall(id="p", name="poke", arguments={})])
    return Reply(text=request.last_tool_result)


async def test_each_trial_gets_its_own_environment_closed_after_scoring(tmp_path: Path) -> None:
    Probe.made.clear()
    spec = EnvironmentSpec(factory=Probe, arguments={"label": "x"})
    suite = Suite(
        name="probe",
        environment=spec,
        cases=[
            Case(
                id=f"c{i}",
                input=f"poke {i}",
                scorers=[
                    {"type": "state", "path": "calls", "equals": 1},  # type: ignore[list-item]
                    ExactScorer(value='{"not": "re-encoded"}'),
                ],
            )
            for i in range(2)
        ],
    )
    results = await evaluate(suite, poke_then_answer, tmp_path)
    assert [t.status for t in results.trials] == ["passed", "passed"], results.trials
    assert len(Probe.made) == 2 and all(p.closed and p.existed for p in Probe.made)
    assert {p.setup.seed for p in Probe.made} == {t.seed for t in results.trials}
    assert all(not p.setup.directory.exists() for p in Probe.made)  # removed after the trial


async def test_the_environment_is_closed_when_the_trial_fails(tmp_path: Path) -> None:
    Probe.made.clear()

    def broken(model: ModelClient, tools: object, case: Case, trial: TrialSetup) -> Any:
        assert trial.environment is Probe.made[0]
        raise RuntimeError("the factory broke")

    suite = Suite(
        name="probe",
        environment=EnvironmentSpec(factory=Probe, arguments={"label": "y"}),
        trial_agent=broken,
        cases=[Case(id="c", input="poke", scorers=[ExactScorer(value="x")])],
    )
    results = await evaluate(suite, poke_then_answer, tmp_path)
    # A trial whose agent cannot be made is that trial's set-up error, not the run's end.
    [trial] = results.trials
    assert trial.status == "error"
    assert trial.error is not None and "the factory broke" in trial.error
    assert [p.closed for p in Probe.made] == [True]


async def test_schema_tool_checks_arguments_against_its_schema() -> None:
    def book(room: str, nights: int) -> str:
        return f"booked {room} for {nights}"

    schema = {
        "type": "object",
        "properties": {"room": {"enum": ["A", "B"]}, "nights": {"type": "integer", "minimum": 1}},
        "required": ["room", "nights"],
    }
    booking = schema_tool(book, schema)
    assert booking.definition.parameters == schema
    context = RunContext(deps=None)
    ok = await booking.call({"room": "A", "nights": 2}, context)
    assert ok.content == "booked A for 2" and not ok.is_error
    bad = await booking.call({"room": "C", "nights": 0}, context)
    assert bad.is_error and bad.invalid_arguments
    assert "room: 'C' is not one of ['A', 'B']" in bad.content and "nights" in bad.content


def test_a_bad_environment_reference_says_what_to_write() -> None:
    from covey.evals._suite_load import parse_suite

    case = "{id: a, input: x, scorers: [{type: exact, value: y}]}"
    text = f"name: s\nenvironment: shopmodule\ncases: [{case}]"
    with pytest.raises(Exception, match="module:function"):
        parse_suite(text, "s.yaml")
