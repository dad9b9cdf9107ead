"""The calc MCP server: arithmetic without `eval`, exact with rationals when asked.

The expression is parsed with `ast` and walked by an evaluator that knows numbers, the
arithmetic operators and a few math functions, and nothing else: no names but constants, no
attributes, no calls but the listed functions. Sizes are bounded before they are computed (an
exponent is refused if the result would pass the digit limit), so `9**9**9` fails at once.

    python -m covey.servers.calc [--http HOST:PORT]
"""

from __future__ import annotations

import argparse
import ast
import math
from collections.abc import Callable
from fractions import Fraction
from typing import Annotated, Any

from mcp_types import CallToolResult
from pydantic import Field
from typing_extensions import TypedDict  # pydantic needs it for TypedDicts before 3.12

from ._common import (
    BundledServer,
    add_transport_arguments,
    bad_argument,
    hints,
    run_main,
    structured_result,
)

__all__ = ["CalcResult", "build_server", "calculate", "main"]

Number = int | float | Fraction

MAX_BITS = 13_000
"""Largest integer part (numerator or denominator) kept: about 3,900 decimal digits."""
MAX_NODES = 500
"""Most syntax-tree nodes in one expression."""
_MAX_FACTORIAL = 1000
_MAX_ROUND_DIGITS = 100

_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}
_EXACT_FUNCTIONS = {"abs", "min", "max", "floor", "ceil", "round", "gcd", "lcm", "factorial"}
_FLOAT_FUNCTIONS: dict[str, Callable[..., float]] = {
    "sqrt": math.sqrt,
    "exp": math.exp,
    "log": math.log,
    "log2": math.log2,
    "log10": math.log10,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "atan2": math.atan2,
    "hypot": math.hypot,
    "degrees": math.degrees,
    "radians": math.radians,
}
_OPERATORS = "+ - * / // % ** and parentheses"


class CalcError(Exception):
    """The expression cannot be evaluated; the message says why and what to do."""


class CalcResult(TypedDict):
    """The value of an expression."""

    expression: str
    result: str
    """An integer, a decimal number, or with exact mode a fraction 'p/q'."""
    exact: bool
    """Whether the result is exact (a rational number, no rounding)."""


def _bits(value: Number) -> int:
    if isinstance(value, Fraction):
        return max(value.numerator.bit_length(), value.denominator.bit_length())
    return value.bit_length() if isinstance(value, int) else 0


def _checked(value: Number) -> Number:
    if isinstance(value, float) and not math.isfinite(value):
        raise CalcError("the result is not a finite number (overflow or an undefined operation)")
    if _bits(value) > MAX_BITS:
        raise CalcError(f"a result has more than about {MAX_BITS * 3 // 10} digits")
    return value


def _as_int(value: Number, function: str) -> int:
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)
    if isinstance(value, int):
        return value
    raise CalcError(f"{function}() needs whole numbers, got {value}")


class _Evaluator:
    """Walks a parsed expression; exact mode keeps every number a `Fraction`."""

    def __init__(self, source: str, *, exact: bool) -> None:
        self.source = source
        self.exact = exact

    def value(self, node: ast.expr) -> Number:
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
            operand = self.value(node.operand)
            return operand if isinstance(node.op, ast.UAdd) else -operand
        if isinstance(node, ast.BinOp):
            return _checked(self._binary(node.op, self.value(node.left), self.value(node.right)))
        if isinstance(node, ast.Call):
            return _checked(self._call(node))
        if isinstance(node, ast.BinOp | ast.UnaryOp):
            raise CalcError(f"operator not supported; use {_OPERATORS}")
        raise CalcError(f"'{ast.unparse(node)[:40]}' is not arithmetic; use numbers, {_OPERATORS}")

    def _constant(self, node: ast.Constant) -> Number:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise CalcError(f"{value!r} is not a number")
        if self.exact and isinstance(value, float):
            # The literal's own digits, so 0.1 is exactly 1/10 rather than the nearest float.
            text = ast.get_source_segment(self.source, node) or repr(value)
            return Fraction(text.replace("_", ""))
        return Fraction(value) if self.exact else value

    def _name(self, name: str) -> Number:
        if name not in _CONSTANTS:
            known = ", ".join(sorted(_CONSTANTS))
            raise CalcError(f"unknown name '{name[:40]}'; the constants are {known}")
        if self.exact:
            raise CalcError(f"{name} is irrational; call without exact for a decimal answer")
        return _CONSTANTS[name]

    def _binary(self, op: ast.operator, left: Number, right: Number) -> Number:
        match op:
            case ast.Add():
                return left + right
            case ast.Sub():
                return left - right
            case ast.Mult():
                return left * right
            case ast.Div():
                return left / right
            case ast.FloorDiv():
                return left // right
            case ast.Mod():
                return left % right
            case ast.Pow():
                return self._power(left, right)
            case ast.BitXor():
                raise CalcError("'^' is not a power here; write 2**10 for two to the tenth")
            case _:
                raise CalcError(f"operator not supported; use {_OPERATORS}")

    def _power(self, base: Number, exponent: Number) -> Number:
        if isinstance(exponent, Fraction) and exponent.denominator == 1:
            exponent = int(exponent)
        if isinstance(exponent, int) and not isinstance(base, float):
            if exponent >= 0 or self.exact:
                # (bits - 1) * exponent is a lower bound on the result's size: refuse on that,
                # and let _checked catch the rest, which is at most twice the limit.
                if base not in (0, 1, -1) and (_bits(base) - 1) * abs(exponent) > MAX_BITS:
                    raise CalcError(f"the power has more than about {MAX_BITS * 3 // 10} digits")
                return Fraction(base) ** exponent if self.exact else base**exponent
        if self.exact:
            raise CalcError("exact powers need a whole-number exponent; call without exact")
        result: Any = float(base) ** float(exponent)
        if isinstance(result, complex):
            raise CalcError("the result is a complex number, which calc does not handle")
        return float(result)

    def _call(self, node: ast.Call) -> Number:
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        if node.keywords or not name or name not in _EXACT_FUNCTIONS | set(_FLOAT_FUNCTIONS):
            known = ", ".join(sorted(_EXACT_FUNCTIONS | set(_FLOAT_FUNCTIONS)))
            raise CalcError(f"unknown function; the functions are {known} (positional arguments)")
        args = [self.value(arg) for arg in node.args]
        if name in _FLOAT_FUNCTIONS:
            if self.exact:
                raise CalcError(f"{name}() is not exact; call without exact for a decimal answer")
            return _FLOAT_FUNCTIONS[name](*args)
        return self._exact_function(name, args)

    def _exact_function(self, name: str, args: list[Number]) -> Number:
        match name, args:
            case ("abs", [x]):
                return abs(x)
            case ("min" | "max", [_, *_]):
                return min(args) if name == "min" else max(args)
            case ("floor" | "ceil", [x]):
                return math.floor(x) if name == "floor" else math.ceil(x)
            case ("round", [x]):
                return round(x)
            case ("round", [x, digits]):
                places = _as_int(digits, "round")
                if abs(places) > _MAX_ROUND_DIGITS:
                    raise CalcError(f"round() takes at most {_MAX_ROUND_DIGITS} digits")
                return round(x, places)
            case ("gcd" | "lcm", [_, *_]):
                whole = [_as_int(arg, name) for arg in args]
                return math.gcd(*whole) if name == "gcd" else math.lcm(*whole)
            case ("factorial", [x]):
                n = _as_int(x, "factorial")
                if not 0 <= n <= _MAX_FACTORIAL:
                    raise CalcError(f"factorial() takes 0 to {_MAX_FACTORIAL}, got {n}")
                return math.factorial(n)
            case _:
                raise CalcError(f"{name}() got {len(args)} arguments, which it does not take")


def _format(value: Number) -> str:
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else f"{value}"
    return repr(value)


def evaluate(expression: str, *, exact: bool = False) -> str:
    """The value of an arithmetic expression, as text.

    Raises:
        CalcError: Not arithmetic, too large, or undefined (division by zero, a domain error).
    """
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise CalcError("not a valid expression (check the parentheses and operators)") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise CalcError(f"the expression has more than {MAX_NODES} parts; split it up")
    evaluator = _Evaluator(expression.strip(), exact=exact)
    try:
        return _format(_checked(evaluator.value(tree.body)))
    except ZeroDivisionError:
        raise CalcError("division by zero") from None
    except OverflowError:
        raise CalcError("the result is too large for a decimal number; try exact") from None
    except (ValueError, TypeError) as exc:
        raise CalcError(f"cannot compute it: {exc}") from None


def calculate(
    expression: Annotated[
        str,
        Field(
            min_length=1,
            max_length=10_000,
            description="e.g. '(2 + 3) * 4 / 7', 'sqrt(2) * pi', '2**100', 'gcd(12, 18)'.",
        ),
    ],
    exact: Annotated[
        bool,
        Field(description="Compute with exact fractions: '1/3 + 1/6' gives '1/2'."),
    ] = False,
) -> Annotated[CallToolResult, CalcResult]:
    """Evaluate an arithmetic expression safely and return its value.

    Supports + - * / // % ** and parentheses, the constants pi, e and tau, and the functions
    abs, min, max, floor, ceil, round, gcd, lcm, factorial, sqrt, exp, log, log2, log10, sin,
    cos, tan, asin, acos, atan, atan2, hypot, degrees, radians. With exact, numbers are
    fractions and the result is exact ('p/q'); irrational functions are then refused.
    Results are limited to about 3,900 digits.
    """
    try:
        result = evaluate(expression, exact=exact)
    except CalcError as exc:
        raise bad_argument("expression", str(exc), "Fix the expression and call again.") from None
    data = CalcResult(expression=expression, result=result, exact=exact)
    return structured_result(result, data)


def build_server() -> BundledServer:
    """The calc server."""
    server = BundledServer(
        "covey-calc", instructions="Arithmetic you can trust: call calculate instead of guessing."
    )
    server.add_tool(calculate, annotations=hints(read_only=True))
    return server


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="covey serve calc", description="MCP server for safe, exact-when-asked arithmetic."
    )
    add_transport_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the calc server: `covey serve calc`."""
    return run_main(lambda _args: build_server(), _parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
