"""The calc server: safe arithmetic, exact when asked, bounded, in memory and over HTTP."""

from __future__ import annotations

import re
import time

import pytest
from mcp import Client

from covey.servers.calc import CalcError, build_server, evaluate

from .conftest import http_client_for, http_process


@pytest.mark.parametrize(
    ("expression", "exact", "expected"),
    [
        ("1 + 2 * 3", False, "7"),
        ("(2 + 3) * 4 / 8", False, "2.5"),
        ("2**100", False, "1267650600228229401496703205376"),
        ("0.1 + 0.2", False, "0.30000000000000004"),
        ("0.1 + 0.2", True, "3/10"),
        ("1/3 + 1/6", True, "1/2"),
        ("2**-2", True, "1/4"),
        ("7 // 2, ", False, None),
        ("-7 % 3", False, "2"),
        ("sqrt(16) + abs(-2)", False, "6.0"),
        ("max(1, 5, 3) - min(4, 2)", False, "3"),
        ("gcd(12, 18) * lcm(4, 6)", True, "72"),
        ("factorial(20)", False, "2432902008176640000"),
        ("round(2.675, 2)", False, "2.67"),
        ("floor(-1.5) + ceil(1.2)", False, "0"),
        ("1_000 * 3", True, "3000"),
        ("0x10 + 1", True, "17"),
    ],
)
def test_arithmetic(expression: str, exact: bool, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(CalcError):
            evaluate(expression, exact=exact)
    else:
        assert evaluate(expression, exact=exact) == expected


@pytest.mark.parametrize(
    ("expression", "exact", "reason"),
    [
        ("__import__('os').system('true')", False, "unknown function"),
        ("open('/etc/passwd')", False, "unknown function"),
        ("(1).__class__", False, "not arithmetic"),
        ("[x for x in range(9)]", False, "not arithmetic"),
        ("lambda: 1", False, "not arithmetic"),
        ("x", False, "unknown name"),
        ("True + 1", False, "not a number"),
        ("'a' * 9", False, "not a number"),
        ("2 ^ 3", False, "'^' is not a power"),
        ("1 < 2", False, "not arithmetic"),
        ("1/0", True, "division by zero"),
        ("5 % 0", False, "division by zero"),
        ("log(0)", False, "cannot compute"),
        ("(-8) ** (1/3)", False, "complex"),
        ("sqrt(2)", True, "not exact"),
        ("pi", True, "irrational"),
        ("2 ** (1/2)", True, "whole-number exponent"),
        ("1e308 * 10", False, "not a finite number"),
        ("10**3000 / 3", False, "too large"),
        ("factorial(100000)", False, "factorial() takes"),
        ("round(1, 10**9)", True, "at most 100 digits"),
        ("1 +", False, "not a valid expression"),
        ("(" * 300 + "1" + ")" * 300, False, "not a valid expression"),
        ("-" * 9000 + "1", False, "not a valid expression"),
        ("+".join(["1"] * 400), False, "more than 500 parts"),
        ("max()", False, "arguments"),
    ],
)
def test_refusals_say_why(expression: str, exact: bool, reason: str) -> None:
    with pytest.raises(CalcError, match=re.escape(reason)):
        evaluate(expression, exact=exact)


@pytest.mark.parametrize(
    "expression",
    ["9**9**9", "2**10**100", "10**10**10 * 0", "(10**4000) * (10**4000)", "(1/3)**100000"],
)
def test_huge_results_are_refused_quickly(expression: str) -> None:
    started = time.perf_counter()
    with pytest.raises(CalcError, match="digits"):
        evaluate(expression, exact=expression.startswith("(1/3)"))
    # Refused before computing: a refusal takes well under a millisecond, while computing
    # 9**9**7 alone takes seconds (9**9**9, hours), so 5 s holds on any loaded machine.
    assert time.perf_counter() - started < 5


async def test_tool_result_is_structured_and_errors_explain() -> None:
    async with Client(build_server()) as client:
        [tool] = (await client.list_tools()).tools
        result = await client.call_tool("calculate", {"expression": "1/3 + 1/6", "exact": True})
        bad = await client.call_tool("calculate", {"expression": "9**9**9"})
    assert tool.name == "calculate" and tool.output_schema is not None
    assert tool.annotations is not None and tool.annotations.read_only_hint is True
    assert result.structured_content == {"expression": "1/3 + 1/6", "result": "1/2", "exact": True}
    assert getattr(result.content[0], "text", "") == "1/2"
    assert bad.is_error
    assert "Bad argument 'expression'" in getattr(bad.content[0], "text", "")


async def test_process_over_http() -> None:
    async with http_process("covey.servers.calc") as url:
        async with http_client_for(url) as client:
            result = await client.call_tool("calculate", {"expression": "2**64"})
    assert result.structured_content is not None
    assert result.structured_content["result"] == "18446744073709551616"
