"""KnowledgeGraph on SQLite and PostgreSQL: create, dedupe, cascade, namespaces, ranked search."""

from __future__ import annotations

import pytest

from covey import UsageError
from covey.store import Entity, EntityNotFound, KnowledgeGraph, Relation, Store

from .conftest import Backend, backend, store

__all__ = ["backend", "store"]  # fixtures, imported for pytest


def person(name: str, *facts: str) -> Entity:
    return Entity(name=name, entity_type="person", observations=list(facts))


async def test_created_twice_is_created_once_and_the_result_lists_only_new(store: Store) -> None:
    graph = KnowledgeGraph(store)
    first = await graph.create_entities([person("Ada", "wrote a program"), person("Alan")])
    again = await graph.create_entities([person("Ada", "other fact"), person("Grace")])
    added = await graph.add_observations({"Ada": ["wrote a program", "liked poetry"]})
    view = await graph.read()
    assert [e.name for e in first] == ["Ada", "Alan"]
    assert [e.name for e in again] == ["Grace"]
    assert added[0].entity == "Ada" and added[0].added == ["liked poetry"]
    ada = next(e for e in view.entities if e.name == "Ada")
    assert ada.observations == ["wrote a program", "liked poetry"]
    assert [e.name for e in view.entities] == ["Ada", "Alan", "Grace"]


async def test_relations_need_both_ends_and_deleting_an_entity_removes_its_edges(
    store: Store,
) -> None:
    graph = KnowledgeGraph(store)
    await graph.create_entities([person("Ada"), person("Charles"), person("Mary")])
    knows = Relation(source="Ada", relation_type="knows", target="Charles")
    made = await graph.create_relations(
        [knows, knows, Relation(source="Mary", relation_type="knows", target="Ada")]
    )
    assert len(made) == 2
    with pytest.raises(EntityNotFound, match=r"'Nobody'.*create_entities") as caught:
        await graph.create_relations([Relation(source="Ada", relation_type="x", target="Nobody")])
    assert caught.value.names == ["Nobody"]
    assert await graph.delete_entities(["Ada", "Ghost"]) == 1
    view = await graph.read()
    assert [e.name for e in view.entities] == ["Charles", "Mary"]
    assert view.relations == []


async def test_observations_of_a_missing_entity_are_refused_and_nothing_is_added(
    store: Store,
) -> None:
    graph = KnowledgeGraph(store)
    await graph.create_entities([person("Ada")])
    with pytest.raises(EntityNotFound, match="Bob"):
        await graph.add_observations({"Ada": ["new fact"], "Bob": ["x"]})
    assert (await graph.open(["Ada"])).entities[0].observations == []
    with pytest.raises(UsageError, match="empty"):
        await graph.add_observations({"Ada": ["   "]})
    with pytest.raises(UsageError, match="more than the 10000"):
        await graph.add_observations({"Ada": ["x" * 10_001]})


async def test_delete_observations_and_relations_remove_exactly_what_is_named(
    store: Store,
) -> None:
    graph = KnowledgeGraph(store)
    await graph.create_entities([person("Ada", "a", "b", "c"), person("Bo")])
    await graph.create_relations(
        [
            Relation(source="Ada", relation_type="knows", target="Bo"),
            Relation(source="Bo", relation_type="knows", target="Ada"),
        ]
    )
    assert await graph.delete_observations({"Ada": ["b", "zzz"]}) == 1
    assert (
        await graph.delete_relations([Relation(source="Ada", relation_type="knows", target="Bo")])
        == 1
    )
    view = await graph.open(["Ada"])
    assert view.entities[0].observations == ["a", "c"]
    assert view.relations == [Relation(source="Bo", relation_type="knows", target="Ada")]


async def test_namespaces_are_separate_graphs(store: Store) -> None:
    team_a, team_b = KnowledgeGraph(store, "team-a"), KnowledgeGraph(store, "team-b")
    await team_a.create_entities([person("Ada", "secret plan for the launch")])
    await team_b.create_entities([person("Ada", "public notes")])
    assert [e.observations for e in (await team_a.search("launch")).entities] == [
        ["secret plan for the launch"]
    ]
    assert (await team_b.search("launch")).entities == []
    await team_b.delete_entities(["Ada"])
    assert [e.name for e in (await team_a.read()).entities] == ["Ada"]


async def test_search_ranks_the_entity_about_the_topic_first(store: Store) -> None:
    graph = KnowledgeGraph(store)
    await graph.create_entities(
        [
            Entity(name="Kestrel", entity_type="bird", observations=["hovers over fields"]),
            Entity(
                name="Garden",
                entity_type="place",
                observations=["a kestrel was seen once", "roses", "tomatoes", "a shed"],
            ),
            Entity(name="Ada", entity_type="person", observations=["programs engines"]),
            Entity(
                name="Falconry",
                entity_type="topic",
                observations=["kestrel training: the kestrel flies to the glove, kestrel"],
            ),
        ]
    )
    await graph.create_relations(
        [
            Relation(source="Kestrel", relation_type="seen_in", target="Garden"),
            Relation(source="Ada", relation_type="owns", target="Garden"),
        ]
    )
    found = await graph.search("kestrel")
    names = [e.name for e in found.entities]
    assert names[0] == "Kestrel"  # the name itself outranks mentions
    assert set(names) == {"Kestrel", "Falconry", "Garden"}
    assert names.index("Falconry") < names.index("Garden")  # many mentions beat one
    assert found.relations == [Relation(source="Kestrel", relation_type="seen_in", target="Garden")]
    assert [e.name for e in (await graph.search("prog")).entities] == ["Ada"]  # prefixes match
    assert [e.name for e in (await graph.search("hovering")).entities] == ["Kestrel"]  # stems
    assert (await graph.search("")).entities == []
    for hostile in ('"', "NEAR(", "zz OR yy", "x AND", "*", "') --", "%_\\", "💥 ünïcode"):
        assert (await graph.search(hostile)).entities == []
    assert len((await graph.search("kestrel", limit=1)).entities) == 1


async def test_the_graph_survives_closing_and_reopening_the_store(backend: Backend) -> None:
    async with backend.store() as first:
        await KnowledgeGraph(first).create_entities([person("Ada", "wrote a program")])
    async with backend.store() as second:
        view = await KnowledgeGraph(second).search("program")
    assert [e.name for e in view.entities] == ["Ada"]
