"""Tool definition checks: what a model and a client learn from `tools/list`.

Descriptions, JSON Schema 2020-12 inputs, annotations, output schemas, prompt-injection
markers, and names that collide with common servers.
"""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from mcp_types import Tool

from ._calls import shorten
from ._context import DimensionDraft

__all__ = ["COMMON_TOOL_NAMES", "MIN_DESCRIPTION", "check_definitions"]

MIN_DESCRIPTION = 20
"""Characters a tool description needs to tell a model when to use the tool."""

_INJECTION = re.compile(
    r"ignore (all |any )?(previous|prior|above) (instructions|prompts)|<\s*important\s*>|"
    r"do not (tell|mention|inform) (the )?user|<\|im_start\|>|<\|system\|>|\[INST\]|"
    r"system prompt|before using this tool,? (read|send|call)|~/\.ssh|id_rsa",
    re.IGNORECASE,
)

COMMON_TOOL_NAMES: dict[str, str] = {
    **dict.fromkeys(
        [
            "read_file",
            "read_text_file",
            "write_file",
            "edit_file",
            "list_directory",
            "create_directory",
            "move_file",
            "search_files",
            "get_file_info",
            "directory_tree",
            "list_allowed_directories",
            "read_multiple_files",
            "read_media_file",
        ],
        "@modelcontextprotocol/server-filesystem",
    ),
    **dict.fromkeys(
        [
            "create_entities",
            "create_relations",
            "add_observations",
            "delete_entities",
            "delete_observations",
            "delete_relations",
            "read_graph",
            "search_nodes",
            "open_nodes",
        ],
        "@modelcontextprotocol/server-memory",
    ),
    "fetch": "mcp-server-fetch",
    "get_current_time": "mcp-server-time",
    "convert_time": "mcp-server-time",
    **dict.fromkeys(
        ["read_query", "write_query", "create_table", "list_tables", "describe_table"],
        "mcp-server-sqlite",
    ),
    "echo": "@modelcontextprotocol/server-everything",
    "git_status": "mcp-server-git",
}
"""Tool names of widely installed servers; a client combining servers must tell them apart."""

_HINTS = ("read_only_hint", "destructive_hint", "idempotent_hint", "open_world_hint")


def check_definitions(tools: list[Tool], draft: DimensionDraft) -> None:
    """Every tool's definition, one finding per problem."""
    if not tools:
        draft.failed("definitions.no_tools", "medium", "the server lists no tools")
        return
    for tool in tools:
        _description(tool, draft)
        _input_schema(tool, draft)
        _annotations(tool, draft)
        _output_schema(tool, draft)
    _collisions(tools, draft)
    names = [t.name for t in tools]
    for name in sorted({n for n in names if names.count(n) > 1}):
        draft.failed(
            "definitions.duplicate_name",
            "high",
            f"the tool name {name!r} is listed {names.count(name)} times",
            tool=name,
        )


def _collisions(tools: list[Tool], draft: DimensionDraft) -> None:
    by_server: dict[str, list[str]] = {}
    for tool in tools:
        if tool.name in COMMON_TOOL_NAMES:
            by_server.setdefault(COMMON_TOOL_NAMES[tool.name], []).append(tool.name)
    for server, names in sorted(by_server.items()):
        draft.failed(
            "definitions.name_collision",
            "info",
            f"{len(names)} tool names are also tools of {server}; a client that combines "
            "both servers must prefix them",
            received=names,
        )


def _description(tool: Tool, draft: DimensionDraft) -> None:
    text = (tool.description or "").strip()
    if not text:
        draft.failed(
            "definitions.description.missing",
            "high",
            f"{tool.name} has no description: a model cannot know when to use it",
            tool=tool.name,
            received=tool.description,
        )
    elif len(text) < MIN_DESCRIPTION:
        draft.failed(
            "definitions.description.short",
            "medium",
            f"{tool.name}'s description has {len(text)} characters (fewer than {MIN_DESCRIPTION})",
            tool=tool.name,
            received=text,
        )
    else:
        draft.passed(f"{tool.name} has a description")
    texts = [text, *(str(p.get("description", "")) for p in _properties(tool).values())]
    for piece in texts:
        if match := _INJECTION.search(piece):
            draft.failed(
                "definitions.injection_marker",
                "high",
                f"{tool.name}'s description holds the prompt-injection marker {match.group(0)!r}",
                tool=tool.name,
                received=shorten(piece, 400),
            )
            return


def _properties(tool: Tool) -> dict[str, dict[str, Any]]:
    properties = tool.input_schema.get("properties")
    return properties if isinstance(properties, dict) else {}  # type: ignore[return-value]


def _input_schema(tool: Tool, draft: DimensionDraft) -> None:
    schema = tool.input_schema
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        draft.failed(
            "definitions.input_schema.invalid",
            "high",
            f"{tool.name}'s input schema is not valid JSON Schema 2020-12: {exc.message}",
            tool=tool.name,
            received=shorten(schema),
        )
        return
    if schema.get("type") != "object":
        draft.failed(
            "definitions.input_schema.not_object",
            "medium",
            f"{tool.name}'s input schema is not of type object",
            tool=tool.name,
            received=shorten(schema),
        )
        return
    undocumented = [n for n, p in _properties(tool).items() if not p.get("description")]
    if undocumented:
        draft.failed(
            "definitions.input_schema.undocumented_arguments",
            "low",
            f"{tool.name}'s arguments {', '.join(sorted(undocumented))} have no description",
            tool=tool.name,
            received=sorted(undocumented),
        )
    draft.passed(f"{tool.name} has a valid object input schema")


def _annotations(tool: Tool, draft: DimensionDraft) -> None:
    annotations = tool.annotations
    missing = [h for h in _HINTS if annotations is None or getattr(annotations, h) is None]
    if missing:
        named = ", ".join(h.removesuffix("_hint").replace("_", "-") for h in missing)
        draft.failed(
            "definitions.annotations.missing",
            "low",
            f"{tool.name} does not say whether it is {named}",
            tool=tool.name,
            received=None if annotations is None else annotations.model_dump(exclude_none=True),
        )
    else:
        draft.passed(f"{tool.name} has all four annotations")


def _output_schema(tool: Tool, draft: DimensionDraft) -> None:
    if tool.output_schema is None:
        return
    try:
        Draft202012Validator.check_schema(tool.output_schema)
    except SchemaError as exc:
        draft.failed(
            "definitions.output_schema.invalid",
            "medium",
            f"{tool.name}'s output schema is not valid JSON Schema 2020-12: {exc.message}",
            tool=tool.name,
            received=shorten(tool.output_schema),
        )
    else:
        draft.passed(f"{tool.name} has a valid output schema")


def structured_without_schema(tool: Tool, draft: DimensionDraft) -> None:
    """A tool returned structured content but declares no output schema."""
    draft.failed(
        "definitions.output_schema.missing",
        "low",
        f"{tool.name} returns structured content but declares no output schema",
        tool=tool.name,
    )
