"""`covey eval --check` semantics: every scorer must fail in some mistake, errors prove nothing."""

from __future__ import annotations

from collections.abc import Sequence

from covey.agents import Agent
from covey.evals import Case, NumberScorer, Step, Suite, ToolCalledScorer, check_suite
from covey.evals._check import format_check
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
