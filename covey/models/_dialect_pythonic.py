"""Reading pythonic tool calls: `[f(a=1), ns.g(b="x")]`, and bare `f(a=1)` replies.

Nothing here is evaluated: the text is parsed with `ast` and only literals are read.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Collection
from typing import Any, Literal

from ._dialect_calls import Draft, bad_call

__all__ = ["bare_call_start", "parse_pythonic"]

_BRACKETED_START = re.compile(r"\[\s*([A-Za-z_][\w.\-]*)\s*\(")
_BARE_START = re.compile(r"([A-Za-z_][\w.\-]*)\(")
_LITERAL_NAMES: dict[str, Any] = {"true": True, "false": False, "null": None}


def bare_call_start(text: str, tool_names: Collection[str]) -> Literal["yes", "no", "maybe"]:
    """Whether `text` (no leading space) starts a bare call `name(` of an offered tool.

    Returns:
        "yes" or "no", which hold for every longer text, or "maybe".
    """
    if any(text.startswith(f"{name}(") for name in tool_names):
        return "yes"
    return "maybe" if any(f"{name}(".startswith(text) for name in tool_names) else "no"


def parse_pythonic(
    body: str, tool_names: Collection[str] | None, *, bracketed: bool
) -> list[Draft] | None:
    """Read a reply that is pythonic calls from start to end.

    Args:
        body: The reply, stripped.
        tool_names: The tools offered, or `None` to take any name.
        bracketed: The calls are in a list (`[f(a=1)]`); else they are bare (`f(a=1)`), one
            a line or separated by `,` or `;`, and count only when the first names an
            offered tool.

    Returns:
        The calls (malformed ones included), or `None` when the reply is an ordinary answer.
    """
    try:
        elements = _elements(body, bracketed=bracketed)
    except (SyntaxError, ValueError) as exc:
        return _unparsable(body, tool_names, exc, bracketed=bracketed)
    if elements is None:
        return None
    drafts = [_element(node, body) for node in elements]
    if tool_names is None:
        if not drafts or any(d is None for d in drafts):
            return None
        return [d for d in drafts if d is not None]
    offered = [d is not None and d.name in tool_names for d in drafts]
    if not bracketed and not offered[0]:
        return None
    if not any(offered) and not all(
        _keywords_only(node) for node in elements
    ):  # A list of things that are not tool calls, such as `[len(x)]`: an answer.
        return None
    return [
        _checked(draft, node, body, tool_names)
        for draft, node in zip(drafts, elements, strict=True)
    ]


def _parse(body: str, mode: str) -> ast.AST:
    with warnings.catch_warnings():
        # Odd escapes in the model's strings must not surface as the caller's warnings.
        warnings.simplefilter("ignore", SyntaxWarning)
        return ast.parse(body, mode=mode)


def _elements(body: str, *, bracketed: bool) -> list[ast.expr] | None:
    if bracketed:
        tree = _parse(body, "eval")
        assert isinstance(tree, ast.Expression)
        return tree.body.elts if isinstance(tree.body, ast.List) and tree.body.elts else None
    tree = _parse(body, "exec")
    assert isinstance(tree, ast.Module)
    elements: list[ast.expr] = []
    for statement in tree.body:
        if not isinstance(statement, ast.Expr):
            return None
        value = statement.value
        elements.extend(value.elts if isinstance(value, ast.Tuple) else [value])
    return elements or None


def _unparsable(
    body: str, tool_names: Collection[str] | None, exc: Exception, *, bracketed: bool
) -> list[Draft] | None:
    start = (_BRACKETED_START if bracketed else _BARE_START).match(body)
    if start is None or (tool_names is not None and start.group(1) not in tool_names):
        return None
    if not bracketed and (tool_names is None or not body.endswith(")")):
        # Prose that starts with a tool's name, e.g. "f(x) returns ...", stays an answer.
        return None
    problem = f"was not valid Python call syntax ({exc})."
    return [bad_call(start.group(1), body, problem, "pythonic")]


def _dotted(node: ast.expr) -> str | None:
    """The tool name an attribute chain spells: `ns.f` as "ns.f", `a-b` as "a-b"."""
    match node:
        case ast.Name(id=name):
            return name
        case ast.Attribute(value=value, attr=attr):
            head = _dotted(value)
            return None if head is None else f"{head}.{attr}"
        case ast.BinOp(left=left, op=ast.Sub(), right=right):
            head, tail = _dotted(left), _dotted(right)
            return None if head is None or tail is None else f"{head}-{tail}"
        case _:
            return None


def _callee(node: ast.expr) -> tuple[str, ast.Call] | None:
    """The name and call of one element, or `None` when it is no call."""
    match node:
        case ast.Call(func=func):
            name = _dotted(func)
            return None if name is None else (name, node)
        case ast.BinOp(left=left, op=ast.Sub(), right=ast.Call(func=func) as call):
            # A name with `-` in it, `files-read(...)`, parses as a subtraction.
            head, tail = _dotted(left), _dotted(func)
            return None if head is None or tail is None else (f"{head}-{tail}", call)
        case _:
            return None


def _keywords_only(node: ast.expr) -> bool:
    found = _callee(node)
    return found is not None and not found[1].args


def _element(node: ast.expr, source: str) -> Draft | None:
    found = _callee(node)
    if found is None:
        return None
    name, call = found
    raw = ast.get_source_segment(source, node) or source
    if call.args:
        return bad_call(name, raw, "passed arguments by position; name each one.", "pythonic")
    arguments: dict[str, Any] = {}
    for keyword in call.keywords:
        if keyword.arg is None:
            return bad_call(name, raw, "used ** unpacking; name each argument.", "pythonic")
        try:
            arguments[keyword.arg] = _literal(keyword.value)
        except ValueError as exc:
            problem = (
                f"gave argument {keyword.arg!r} a value that is not a literal ({exc}); use "
                "strings, numbers, true/false, null, lists and dicts only."
            )
            return bad_call(name, raw, problem, "pythonic")
    return Draft(name=name, arguments=arguments, raw=raw)


def _checked(
    draft: Draft | None, node: ast.expr, source: str, tool_names: Collection[str]
) -> Draft:
    """An element of a reply that holds tool calls, refused unless it calls an offered tool."""
    tools = ", ".join(sorted(tool_names))
    if draft is None:
        raw = ast.get_source_segment(source, node) or source
        return bad_call(None, raw, f"was not a call of one of your tools ({tools}).", "pythonic")
    if draft.name in tool_names:
        return draft
    return Draft(
        name=draft.name,
        arguments=None,
        raw=draft.raw,
        error=f"You called {draft.name!r}, which is not one of your tools. Your tools are: "
        f'{tools}. Call one of them by its exact name, e.g. [tool_name(key="value")]; '
        "if this was your answer rather than a tool call, write it in words.",
    )


def _literal(node: ast.expr) -> Any:
    """The value of a literal expression; anything that would need evaluation is refused."""
    match node:
        case ast.Constant(value=str() | int() | float() | None as value):
            return value
        case ast.Name(id=name) if name in _LITERAL_NAMES:
            return _LITERAL_NAMES[name]
        case ast.UnaryOp(op=ast.USub() | ast.UAdd() as op, operand=ast.Constant(value=number)) if (
            isinstance(number, int | float) and not isinstance(number, bool)
        ):
            return -number if isinstance(op, ast.USub) else number
        case ast.List(elts=items) | ast.Tuple(elts=items):
            return [_literal(item) for item in items]
        case ast.Dict(keys=keys, values=values):
            return {_key(key): _literal(value) for key, value in zip(keys, values, strict=True)}
        case _:
            raise ValueError(ast.unparse(node)[:80])


def _key(node: ast.expr | None) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    raise ValueError("dict keys must be strings" if node is not None else "** in a dict")
