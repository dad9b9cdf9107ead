"""`covey eval --check` semantics: every scorer must fail in some mistake, errors prove nothing."""

from __future__ import annotations

from collections.abc import Sequence

from covey.agents import Agent
from covey.evals import (
    Case,
    ContainsScorer,
    NumberScorer,
    Step,
    Suite,
    ToolCalledScorer,
    WorldSetup,
    check_suite,
)
from covey.evals._check import format_check
from covey.evals._suite_load import parse_suite
from covey.models import ModelClient
from covey.tools import MCPToolset

SOLUTION = [Step(tool="calculate", arguments={"expression": "6*7"}), Step(answer="42")]
WRONG_SUM = [Step(tool="calculate", arguments={"expression": "6*8"}), Step(answer="48")]
IN_ITS_HEAD = [Step(answer="42")]


def _suite(mistakes: list[list[Step]]) -> Suite:
    case = Case(
        id="times",
        input="What is 6*7? Use the calculator.",
        scorers=[NumberScorer(value=42), ToolCalledScorer(name="calculate")],
        solution=SOLUTION,
        mistake=WRONG_SUM,
        mistakes=mistakes,
    )
    return Suite(name="check", servers=["calc"], cases=[case])


async def test_a_scorer_no_mistake_fails_is_reported() -> None:
    check = await check_suite(_suite([]))
    assert check.solution_failed == {} and check.mistake_passed == []
    assert check.scorers_never_failed == {"times": ["tool_called"]}  # the wrong sum calls it too
    assert not check.ok
    assert "no mistake fails tool_called" in format_check(check)


async def test_a_mistake_variant_can_prove_the_other_scorers_fail() -> None:
    check = await check_suite(_suite([IN_ITS_HEAD]))
    assert check.scorers_never_failed == {} and check.mistake_passed == []
    assert check.ok


async def test_a_mistake_that_ends_in_an_infrastructure_error_is_not_caught() -> None:
    def flaky(model: ModelClient, servers: Sequence[MCPToolset], case: Case) -> object:
        async def solve(task: str, on_event: object) -> str:
            agent = Agent("solver", model, "Use the tools.", tools=list(servers))
            output = (await agent.run(task, on_event=on_event)).output  # type: ignore[arg-type]
            if output == "48":
                raise ConnectionResetError("the network went away")
            return output

        return solve

    suite = _suite([]).model_copy(update={"agent": flaky})
    check = await check_suite(suite)
    assert check.solution_failed == {}
    assert list(check.mistake_errored) == ["times"]
    assert "ConnectionResetError: the network went away" in check.mistake_errored["times"]
    assert not check.ok
    assert "its mistake ended in an error" in format_check(check)


async def test_a_case_with_a_solution_and_no_mistake_passes_with_a_note() -> None:
    suite = _suite([])
    case = suite.cases[0].model_copy(update={"mistake": None})
    check = await check_suite(suite.model_copy(update={"cases": [case]}))
    assert check.ok and check.no_mistake == ["times"] and check.unchecked == []
    assert format_check(check).splitlines()[1:] == [
        "  NOTE times: no `mistake` (the solution with one thing wrong), so nothing shows its "
        "scorers can fail",
        "  OK: every solution passes; add a `mistake` to the 1 noted case(s) to check their "
        "scorers too.",
    ]


SAME_TASK = "What is the launch code written in notes.txt?"


def _launch(case_id: str, code: str) -> Case:
    """Cases that differ only in their world: the first user message does not tell them apart."""
    return Case(
        id=case_id,
        input=SAME_TASK,
        servers=["files"],
        setup=WorldSetup(files={"notes.txt": f"The launch code is {code}.\n"}),
        scorers=[ContainsScorer(value=code)],
        solution=[
            Step(tool="read_text_file", arguments={"path": "notes.txt"}),
            Step(answer=f"It is {code}."),
        ],
    )


async def test_solutions_replay_per_case_when_cases_share_their_first_message() -> None:
    suite = Suite(name="same", cases=[_launch("site[a]", "4471"), _launch("site[b]", "9902")])
    check = await check_suite(suite)
    assert check.solution_failed == {} and check.no_mistake == ["site[a]", "site[b]"]
    assert check.ok


EXPECTED = """
name: expected
servers: [calc]
cases:
  - id: times
    input: What is 6*7? Use the calculator.
    scorers: [{type: number, value: 42}, {type: tool_called, name: calculate}]
    solution: [{tool: calculate, arguments: {expression: "6*7"}}, {answer: "42"}]
    mistake: [{tool: calculate, arguments: {expression: "6*8"}}, {answer: "48"}]
    mistakes:
      - [{answer: "42"}]
      - passes_because: the product is the same either way round
        steps: [{tool: calculate, arguments: {expression: "7*6"}}, {answer: "42"}]
  - id: only-expected
    input: What is 2+2? Use the calculator.
    scorers: [{type: number, value: 4}]
    solution: [{tool: calculate, arguments: {expression: "2+2"}}, {answer: "4"}]
    mistake:
      passes_because: the calculator is not needed for this
      steps: [{answer: "4"}]
"""


async def test_a_mistake_marked_to_pass_passes_the_check_with_its_reason() -> None:
    check = await check_suite(parse_suite(EXPECTED, "expected.yaml"))
    assert check.ok, format_check(check)
    assert check.mistake_passed == [] and check.scorers_never_failed == {}
    assert check.passed_as_expected == {
        "times (mistake 3)": "the product is the same either way round",
        "only-expected": "the calculator is not needed for this",
    }
    assert check.no_mistake == ["only-expected"]  # nothing shows its scorer can fail
    assert (
        "  NOTE times (mistake 3): its mistake passes, as expected: the product is the same "
        "either way round" in format_check(check).splitlines()
    )


async def test_a_mistake_marked_to_pass_that_fails_is_reported() -> None:
    wrong = EXPECTED.replace(
        'expression: "7*6"}}, {answer: "42"}', 'expression: "7*5"}}, {answer: "35"}'
    )
    check = await check_suite(parse_suite(wrong, "expected.yaml").select(ids=["times"]))
    assert not check.ok
    assert list(check.expected_pass_failed) == ["times (mistake 3)"]
    assert "FAIL times (mistake 3): its mistake fails (number: " in format_check(check)
    assert "fix or drop passes_because" in format_check(check)
