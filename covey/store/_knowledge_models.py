"""The knowledge graph's data: entities, relations, views of a graph, and its errors."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from ._errors import StoreError

__all__ = [
    "MAX_NAME",
    "MAX_OBSERVATION",
    "Entity",
    "EntityNotFound",
    "GraphView",
    "ObservationsAdded",
    "Relation",
]

MAX_NAME = 256
"""Longest entity name, entity type or relation type, in characters."""
MAX_OBSERVATION = 10_000
"""Longest observation, in characters."""


class EntityNotFound(StoreError, LookupError):
    """An operation names an entity the graph does not have."""

    def __init__(self, message: str, *, names: Sequence[str]) -> None:
        super().__init__(message)
        self.names = list(names)


class Entity(BaseModel):
    """A node: a person, place, project, ... with what is known about it."""

    model_config = ConfigDict(frozen=True)

    name: str
    """Unique within a namespace."""
    entity_type: str
    """What kind of thing it is, e.g. `person`."""
    observations: list[str] = Field(default_factory=list[str])
    """Facts about it, oldest first."""


class Relation(BaseModel):
    """A directed edge, read as `source relation_type target` (active voice)."""

    model_config = ConfigDict(frozen=True)

    source: str
    relation_type: str
    target: str


class GraphView(BaseModel):
    """Part of a graph: some entities, and the relations that touch them."""

    entities: list[Entity]
    relations: list[Relation]


class ObservationsAdded(BaseModel):
    """The observations actually added to one entity (those it did not have yet)."""

    entity: str
    added: list[str]
