"""The memory MCP server: a knowledge graph of entities, relations and observations.

Tool names, arguments and result shapes match the reference memory server
(modelcontextprotocol/servers, `server-memory`), so prompts written for it work here. The
graph lives in covey's store (SQLite by default, PostgreSQL by URL) rather than a JSON file:
it survives restarts, several processes can share it, agents' long-term memory reads the
same rows, and `search_nodes` ranks by full-text relevance.

    python -m covey.servers.memory [--db URL] [--schema NAME] [--namespace NAME] [--http HOST:PORT]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Iterable, Mapping
from typing import Annotated, Any, TypeVar

from mcp_types import CallToolResult
from pydantic import Field
from typing_extensions import TypedDict  # pydantic needs it for TypedDicts before 3.12

from covey._errors import CoveyError
from covey.store import (
    Entity,
    GraphView,
    KnowledgeGraph,
    Relation,
    Store,
)
from covey.store._knowledge_models import MAX_NAME, MAX_OBSERVATION

from ._common import (
    BundledServer,
    SetupError,
    ToolError,
    add_transport_arguments,
    hints,
    run_main,
    structured_result,
)

__all__ = ["build_server", "main"]

T = TypeVar("T")
_MAX_ITEMS = 1000

Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
Observation = Annotated[str, Field(min_length=1, max_length=MAX_OBSERVATION)]
Names = Annotated[list[Name], Field(max_length=_MAX_ITEMS)]
Observations = Annotated[list[Observation], Field(max_length=_MAX_ITEMS)]


class EntityData(TypedDict):
    """An entity as the reference server writes it."""

    name: Name
    entityType: Name
    observations: Observations


RelationData = TypedDict(
    "RelationData",
    {
        "from": Annotated[Name, Field(description="Name of the entity the relation starts at.")],
        "to": Annotated[Name, Field(description="Name of the entity the relation ends at.")],
        "relationType": Annotated[Name, Field(description="Active voice, e.g. 'works_at'.")],
    },
)
"""A relation as the reference server writes it: `from relationType to`."""


class ObservationData(TypedDict):
    """Observations to add to one entity."""

    entityName: Name
    contents: Observations


class ObservationDeletion(TypedDict):
    """Observations to delete from one entity."""

    entityName: Name
    observations: Observations


class GraphData(TypedDict):
    """Entities and the relations between them."""

    entities: list[EntityData]
    relations: list[RelationData]


class EntitiesOutput(TypedDict):
    """The entities a call created."""

    entities: list[EntityData]


class RelationsOutput(TypedDict):
    """The relations a call created."""

    relations: list[RelationData]


class AddedData(TypedDict):
    """The observations actually added to one entity."""

    entityName: str
    addedObservations: list[str]


class AddedOutput(TypedDict):
    """What `add_observations` added, per entity."""

    results: list[AddedData]


class DeletedOutput(TypedDict):
    """The outcome of a deletion."""

    success: bool
    message: str


def _entity_data(entity: Entity) -> EntityData:
    return EntityData(
        name=entity.name, entityType=entity.entity_type, observations=list(entity.observations)
    )


def _relation_data(relation: Relation) -> RelationData:
    return {"from": relation.source, "to": relation.target, "relationType": relation.relation_type}


def _relation(data: RelationData) -> Relation:
    return Relation(source=data["from"], relation_type=data["relationType"], target=data["to"])


def _graph(view: GraphView) -> GraphData:
    return GraphData(
        entities=[_entity_data(e) for e in view.entities],
        relations=[_relation_data(r) for r in view.relations],
    )


def _grouped(pairs: Iterable[tuple[str, list[str]]]) -> dict[str, list[str]]:
    """Observations per entity, an entity named twice getting both lists."""
    grouped: dict[str, list[str]] = {}
    for name, items in pairs:
        grouped.setdefault(name, []).extend(items)
    return grouped


def _result(data: Mapping[str, Any]) -> CallToolResult:
    return structured_result(json.dumps(data, ensure_ascii=False, indent=2), data)


class MemoryTools:
    """The tools, over one `KnowledgeGraph`."""

    def __init__(self, graph: KnowledgeGraph) -> None:
        """Serve `graph`."""
        self.graph = graph

    async def _call(self, work: Awaitable[T]) -> T:
        try:
            return await work
        except CoveyError as exc:  # EntityNotFound, UsageError, StoreError: all say the fix
            raise ToolError(str(exc)) from None

    async def create_entities(
        self, entities: Annotated[list[EntityData], Field(max_length=_MAX_ITEMS)]
    ) -> Annotated[CallToolResult, EntitiesOutput]:
        """Create entities with their observations; names that exist already are skipped."""
        made = await self._call(
            self.graph.create_entities(
                Entity(name=e["name"], entity_type=e["entityType"], observations=e["observations"])
                for e in entities
            )
        )
        return _result({"entities": [_entity_data(e) for e in made]})

    async def create_relations(
        self, relations: Annotated[list[RelationData], Field(max_length=_MAX_ITEMS)]
    ) -> Annotated[CallToolResult, RelationsOutput]:
        """Create relations between existing entities; ones that exist already are skipped."""
        made = await self._call(self.graph.create_relations(_relation(r) for r in relations))
        return _result({"relations": [_relation_data(r) for r in made]})

    async def add_observations(
        self, observations: Annotated[list[ObservationData], Field(max_length=_MAX_ITEMS)]
    ) -> Annotated[CallToolResult, AddedOutput]:
        """Add observations to existing entities; ones an entity has already are skipped."""
        wanted = _grouped((item["entityName"], item["contents"]) for item in observations)
        added = await self._call(self.graph.add_observations(wanted))
        results = [{"entityName": a.entity, "addedObservations": a.added} for a in added]
        return _result({"results": results})

    async def delete_entities(self, entityNames: Names) -> Annotated[CallToolResult, DeletedOutput]:
        """Delete entities, with their observations and every relation touching them."""
        count = await self._call(self.graph.delete_entities(entityNames))
        return _result({"success": True, "message": f"Deleted {count} entities."})

    async def delete_observations(
        self, deletions: Annotated[list[ObservationDeletion], Field(max_length=_MAX_ITEMS)]
    ) -> Annotated[CallToolResult, DeletedOutput]:
        """Delete specific observations of entities."""
        wanted = _grouped((item["entityName"], item["observations"]) for item in deletions)
        count = await self._call(self.graph.delete_observations(wanted))
        return _result({"success": True, "message": f"Deleted {count} observations."})

    async def delete_relations(
        self, relations: Annotated[list[RelationData], Field(max_length=_MAX_ITEMS)]
    ) -> Annotated[CallToolResult, DeletedOutput]:
        """Delete specific relations."""
        count = await self._call(self.graph.delete_relations(_relation(r) for r in relations))
        return _result({"success": True, "message": f"Deleted {count} relations."})

    async def read_graph(self) -> Annotated[CallToolResult, GraphData]:
        """Read the whole knowledge graph."""
        return _result(_graph(await self._call(self.graph.read())))

    async def search_nodes(
        self,
        query: Annotated[
            str, Field(min_length=1, max_length=1000, description="Words to look for.")
        ],
    ) -> Annotated[CallToolResult, GraphData]:
        """Search entities by name, type and observations, best match first."""
        return _result(_graph(await self._call(self.graph.search(query, limit=50))))

    async def open_nodes(self, names: Names) -> Annotated[CallToolResult, GraphData]:
        """Open entities by name, with the relations touching them."""
        return _result(_graph(await self._call(self.graph.open(names))))


_DESCRIPTIONS: dict[str, str] = {
    "create_entities": "Create entities in the knowledge graph, each with a name, an entity "
    "type and observations (facts about it). Names that exist already are skipped; the "
    "result lists the entities created.",
    "create_relations": "Create relations between existing entities, in active voice "
    "(from 'Ada' relationType 'works_at' to 'Analytical Engine Ltd'). Existing ones are "
    "skipped.",
    "add_observations": "Add observations (facts) to existing entities. Ones an entity has "
    "already are skipped; the result lists what was added.",
    "delete_entities": "Delete entities with their observations and every relation touching them.",
    "delete_observations": "Delete specific observations from entities.",
    "delete_relations": "Delete specific relations.",
    "read_graph": "Read the whole knowledge graph: every entity with its observations, and "
    "every relation.",
    "search_nodes": "Search the knowledge graph: entities whose name, type or observations "
    "contain the query's words (prefixes match), best match first, with the relations "
    "between them.",
    "open_nodes": "Open entities by exact name, with their observations and the relations "
    "touching them. Unknown names are left out.",
}
_READS = frozenset({"read_graph", "search_nodes", "open_nodes"})
_DELETES = frozenset({"delete_entities", "delete_observations", "delete_relations"})


def build_server(
    db: str | None = None, namespace: str = "default", schema: str | None = None
) -> BundledServer:
    """The memory server over the store at `db` (default `$COVEY_DB`, else `.covey/covey.db`).

    `schema` is the PostgreSQL schema of the store's tables, as for `Store(url, schema=...)`.

    Raises:
        SetupError: the URL, its driver or the namespace cannot be used.
    """
    try:
        store = Store.from_env(schema=schema) if db is None else Store(db, schema=schema)
        graph = KnowledgeGraph(store, namespace)
    except CoveyError as exc:
        raise SetupError(str(exc)) from None
    tools = MemoryTools(graph)
    server = BundledServer(
        "covey-memory",
        instructions="A persistent knowledge graph: entities (people, places, projects, ...) "
        "with observations, and relations between them. Search it before answering from "
        f"memory; record new facts as observations. Namespace: {graph.namespace}.",
    )
    for name, description in _DESCRIPTIONS.items():
        server.add_tool(
            getattr(tools, name),
            description=description,
            annotations=hints(
                read_only=name in _READS,
                destructive=name in _DELETES,
                idempotent=True,
            ),
        )
    server.add_cleanup(store.close)
    return server


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="covey serve memory",
        description="MCP server for a persistent knowledge graph (entities, relations, "
        "observations) in SQLite or PostgreSQL.",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL: sqlite:///path/memory.db or postgresql://user:pw@host/db "
        "(default: $COVEY_DB, else .covey/covey.db in the current directory)",
    )
    parser.add_argument(
        "--schema",
        metavar="NAME",
        help="PostgreSQL schema holding covey's tables (default: the search path's first)",
    )
    parser.add_argument(
        "--namespace",
        default="default",
        metavar="NAME",
        help="which graph in the database to serve (an agent, a user, a team; default: default)",
    )
    add_transport_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the memory server: `covey serve memory`."""
    return run_main(
        lambda args: build_server(args.db, args.namespace, args.schema), _parser(), argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
