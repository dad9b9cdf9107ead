"""The memory server: the reference server's tools and shapes, persistence, processes, abuse."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO

import pytest
from mcp import Client

from covey.servers._common import SetupError
from covey.servers.memory import build_server
from covey.store import KnowledgeGraph, Store

from ..store.conftest import postgres_url
from .conftest import http_client_for, http_process, stdio_client_for
from .test_malformed import assert_no_crash, hammer

REFERENCE_TOOLS = {
    "create_entities",
    "create_relations",
    "add_observations",
    "delete_entities",
    "delete_observations",
    "delete_relations",
    "read_graph",
    "search_nodes",
    "open_nodes",
}

ADA = {"name": "Ada", "entityType": "person", "observations": ["wrote the first program"]}
ENGINE = {"name": "Analytical Engine", "entityType": "machine", "observations": ["never built"]}


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'memory.db'}"


@asynccontextmanager
async def in_process(tmp_path: Path) -> AsyncIterator[Client]:
    """The server in this process; its store is closed afterwards, as `run_main` would."""
    server = build_server(sqlite_url(tmp_path))
    try:
        async with Client(server) as client:
            yield client
    finally:
        await server.aclose()


async def test_tools_match_the_reference_server_and_say_what_they_do(tmp_path: Path) -> None:
    async with in_process(tmp_path) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == REFERENCE_TOOLS
    assert set(tools["create_relations"].input_schema["$defs"]["RelationData"]["properties"]) == {
        "from",
        "to",
        "relationType",
    }
    assert tools["add_observations"].input_schema["required"] == ["observations"]
    for tool in tools.values():
        assert tool.description and tool.output_schema is not None, tool.name
        hints = tool.annotations
        assert hints is not None
        assert hints.read_only_hint == (tool.name in {"read_graph", "search_nodes", "open_nodes"})
        assert hints.destructive_hint == tool.name.startswith("delete_")


async def test_a_session_builds_searches_and_prunes_a_graph(tmp_path: Path) -> None:
    async with in_process(tmp_path) as client:
        created = await client.call_tool("create_entities", {"entities": [ADA, ENGINE, ADA]})
        again = await client.call_tool("create_entities", {"entities": [ADA]})
        related = await client.call_tool(
            "create_relations",
            {
                "relations": [
                    {"from": "Ada", "to": "Analytical Engine", "relationType": "programmed"}
                ]
            },
        )
        added = await client.call_tool(
            "add_observations",
            {
                "observations": [
                    {"entityName": "Ada", "contents": ["was a countess", "wrote the first program"]}
                ]
            },
        )
        found = await client.call_tool("search_nodes", {"query": "countess"})
        opened = await client.call_tool("open_nodes", {"names": ["Analytical Engine", "Nobody"]})
        missing = await client.call_tool(
            "add_observations", {"observations": [{"entityName": "Nobody", "contents": ["x"]}]}
        )
        deleted = await client.call_tool("delete_entities", {"entityNames": ["Analytical Engine"]})
        graph = await client.call_tool("read_graph", {})
    assert created.structured_content == {"entities": [ADA, ENGINE]}
    assert again.structured_content == {"entities": []}
    assert related.structured_content == {
        "relations": [{"from": "Ada", "to": "Analytical Engine", "relationType": "programmed"}]
    }
    assert added.structured_content == {
        "results": [{"entityName": "Ada", "addedObservations": ["was a countess"]}]
    }
    assert found.structured_content is not None
    assert [e["name"] for e in found.structured_content["entities"]] == ["Ada"]
    assert opened.structured_content is not None
    assert [e["name"] for e in opened.structured_content["entities"]] == ["Analytical Engine"]
    assert len(opened.structured_content["relations"]) == 1  # relations touching the node
    assert missing.is_error
    assert "Nobody" in missing.content[0].text and "create_entities" in missing.content[0].text  # type: ignore[union-attr]
    assert deleted.structured_content == {"success": True, "message": "Deleted 1 entities."}
    assert graph.structured_content == {
        "entities": [{**ADA, "observations": ["wrote the first program", "was a countess"]}],
        "relations": [],
    }


async def test_the_graph_survives_a_restart_and_is_the_store_agents_use(
    tmp_path: Path, errlog: IO[str]
) -> None:
    args = ["--db", sqlite_url(tmp_path), "--namespace", "team"]
    async with stdio_client_for("covey.servers.memory", *args, errlog=errlog) as client:
        await client.call_tool("create_entities", {"entities": [ADA]})
    async with stdio_client_for("covey.servers.memory", *args, errlog=errlog) as client:
        found = await client.call_tool("search_nodes", {"query": "program"})
    assert found.structured_content is not None
    assert found.structured_content["entities"] == [ADA]
    async with Store(sqlite_url(tmp_path)) as store:
        seen = await KnowledgeGraph(store, "team").open(["Ada"])
        other = await KnowledgeGraph(store, "default").read()
    assert seen.entities[0].observations == ADA["observations"]
    assert other.entities == []  # another namespace sees nothing
    assert_no_crash(errlog)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_over_http(tmp_path: Path, backend: str) -> None:
    db = sqlite_url(tmp_path) if backend == "sqlite" else postgres_url()
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    args = ["--db", db, "--namespace", namespace]
    async with http_process("covey.servers.memory", *args) as url, http_client_for(url) as client:
        created = await client.call_tool("create_entities", {"entities": [ADA, ENGINE]})
        await client.call_tool(
            "create_relations",
            {"relations": [{"from": "Ada", "to": "Analytical Engine", "relationType": "studied"}]},
        )
        found = await client.call_tool("search_nodes", {"query": "built"})
        graph = await client.call_tool("read_graph", {})
        await client.call_tool("delete_entities", {"entityNames": ["Ada", "Analytical Engine"]})
        emptied = await client.call_tool("read_graph", {})
    assert created.structured_content == {"entities": [ADA, ENGINE]}
    assert found.structured_content is not None
    assert [e["name"] for e in found.structured_content["entities"]] == ["Analytical Engine"]
    assert graph.structured_content == {
        "entities": [ADA, ENGINE],
        "relations": [{"from": "Ada", "to": "Analytical Engine", "relationType": "studied"}],
    }
    assert emptied.structured_content == {"entities": [], "relations": []}


async def test_survives_malformed_calls_and_keeps_its_graph(
    tmp_path: Path, errlog: IO[str]
) -> None:
    args = ["--db", sqlite_url(tmp_path)]
    async with stdio_client_for("covey.servers.memory", *args, errlog=errlog) as client:
        await client.call_tool("create_entities", {"entities": [ADA]})
        # read_graph takes nothing, so its one malformed call (an extra key) is ignored.
        await hammer(client, seed=3, skip=frozenset({"read_graph"}))
        graph = await client.call_tool("read_graph", {})
    assert graph.structured_content is not None
    assert [e["name"] for e in graph.structured_content["entities"]] == ["Ada"]
    assert_no_crash(errlog)


@pytest.mark.parametrize(
    ("db", "namespace", "message"),
    [
        ("mysql://host/db", "default", "not supported"),
        ("not a url", "default", "not a URL"),
        ("sqlite://", "   ", "Namespace is empty"),
    ],
)
def test_bad_options_are_one_line_errors(db: str, namespace: str, message: str) -> None:
    with pytest.raises(SetupError, match=message):
        build_server(db, namespace)
