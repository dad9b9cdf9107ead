"""The constrained envelope's schema, as llama.cpp's grammar builder reads it."""

from __future__ import annotations

import json

import pydantic
import pytest

from covey.models import ToolDefinition
from covey.models._constrained import envelope_schema, self_contained


class Edit(pydantic.BaseModel):
    old_text: str
    new_text: str


class EditFile(pydantic.BaseModel):
    path: str
    edits: list[Edit]


class Tree(pydantic.BaseModel):
    name: str
    children: list[Tree] = []


def test_refs_to_defs_are_inlined_so_the_schema_stands_alone() -> None:
    schema = EditFile.model_json_schema()  # pydantic writes $defs, as MCP servers' SDKs do
    assert "$defs" in schema
    alone = self_contained(schema)
    assert "$defs" not in json.dumps(alone) and "$ref" not in json.dumps(alone)
    edits = alone["properties"]["edits"]["items"]
    assert edits["properties"]["old_text"]["type"] == "string"
    assert set(edits["required"]) == {"old_text", "new_text"}


def test_a_recursive_definition_is_cut_off_not_expanded_forever() -> None:
    alone = self_contained(Tree.model_json_schema())
    assert "$ref" not in json.dumps(alone)
    assert json.dumps(alone).count('"children"') <= 9


def test_llama_cpp_builds_a_grammar_for_an_envelope_of_tools_with_defs() -> None:
    llama_cpp = pytest.importorskip("llama_cpp", reason="llama-cpp-python is covey[local]")
    tools = [
        ToolDefinition(
            name="edit_file", description="Edit.", parameters=EditFile.model_json_schema()
        ),
        ToolDefinition(name="tree", description="Tree.", parameters=Tree.model_json_schema()),
    ]
    # Before: "Error resolving ref stdin#/$defs/Edit", an HTTP 500 from the embedded server.
    grammar = llama_cpp.LlamaGrammar.from_json_schema(
        json.dumps(envelope_schema(tools)), verbose=False
    )
    assert grammar is not None
