"""End-state scorers on real worlds: seeded, changed as an agent would, then scored."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pydantic
import pytest

from covey.evals._results import ScoreResult
from covey.evals._scorers_state import FileScorer, MemoryScorer, RelationCheck, SQLScorer
from covey.evals._trial import Scorer, TrialContext
from covey.evals._world import MemorySeed, RelationSeed, World, WorldSetup, create_world
from covey.store import Entity, KnowledgeGraph, Relation, Store

SETUP = WorldSetup(
    files={"notes/todo.md": "buy milk\n", "config.json": '{"debug": false}'},
    sql=[
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT, qty INTEGER, price REAL);"
        "INSERT INTO orders (item, qty, price) VALUES ('apple', 3, 0.5), ('pear', 1, 0.75);"
    ],
    memory=[
        MemorySeed(name="Alice", type="person", observations=["Likes tea"]),
        MemorySeed(name="Acme", type="company"),
    ],
    relations=[RelationSeed.model_validate({"from": "Alice", "to": "Acme", "type": "works_at"})],
)


@pytest.fixture
async def world(tmp_path: Path) -> World:
    return await create_world(SETUP, tmp_path / "w")


async def check(scorer: Scorer, world: World) -> ScoreResult:
    context = TrialContext(
        case_id="c", input="task", output="done", tool_calls=[], messages=[], world=world
    )
    return await scorer.score(context)


def run_sql(world: World, script: str) -> None:
    with sqlite3.connect(world.db_path) as db:
        db.executescript(script)


# -- files ---------------------------------------------------------------------------------


async def test_file_equals_ignores_trailing_whitespace_and_names_the_differing_line(
    world: World,
) -> None:
    scorer = FileScorer(path="notes/todo.md", equals="buy milk\nbuy eggs\n")
    before = await check(scorer, world)
    assert not before.passed
    assert 'line 2: only the expected text has "buy eggs"' in before.explanation
    world.path("notes/todo.md").write_text("buy milk  \r\nbuy eggs\n\n\n")
    assert (await check(scorer, world)).passed
    world.path("notes/todo.md").write_text("buy milk\nbuy ham\n")
    bad = await check(scorer, world)
    assert 'line 2: expected "buy eggs", found "buy ham"' in bad.explanation


async def test_file_contains_one_or_many_texts(world: World) -> None:
    world.path("report.txt").write_text("Total: 42 apples")
    assert (await check(FileScorer(path="report.txt", contains="42"), world)).passed
    both = FileScorer(path="report.txt", contains=["42", "pears"])
    bad = await check(both, world)
    assert not bad.passed
    assert '["pears"]' in bad.explanation and "Total: 42 apples" in bad.explanation
    folded = FileScorer(path="report.txt", contains="TOTAL", ignore_case=True)
    assert (await check(folded, world)).passed


async def test_file_regex(world: World) -> None:
    world.path("out.log").write_text("finished in 12 s\n")
    assert (await check(FileScorer(path="out.log", regex=r"in \d+ s"), world)).passed
    bad = await check(FileScorer(path="out.log", regex=r"failed"), world)
    assert (
        not bad.passed and "/failed/" in bad.explanation and "finished in 12 s" in bad.explanation
    )


async def test_file_json_is_compared_parsed(world: World) -> None:
    scorer = FileScorer.model_validate(
        {"type": "file", "path": "config.json", "json": {"debug": True}}
    )
    before = await check(scorer, world)
    assert not before.passed
    assert '{"debug": true}' in before.explanation and '{"debug": false}' in before.explanation
    world.path("config.json").write_text('{\n  "debug": true\n}\n')
    assert (await check(scorer, world)).passed
    world.path("config.json").write_text("debug = true")
    broken = await check(scorer, world)
    assert not broken.passed and "does not parse" in broken.explanation


async def test_file_must_not_exist_or_must_exist(world: World) -> None:
    gone = FileScorer(path="notes/todo.md", exists=False)
    before = await check(gone, world)
    assert not before.passed and "to not exist; it exists" in before.explanation
    world.path("notes/todo.md").unlink()
    assert (await check(gone, world)).passed
    assert not (await check(FileScorer(path="notes/todo.md", exists=True), world)).passed


async def test_a_missing_file_fails_saying_so(world: World) -> None:
    result = await check(FileScorer(path="nowhere.txt", contains="x"), world)
    assert not result.passed
    assert "'nowhere.txt'" in result.explanation and "does not exist" in result.explanation


async def test_a_path_outside_the_world_fails_instead_of_reading_it(world: World) -> None:
    result = await check(FileScorer(path="../../etc/passwd", contains="root"), world)
    assert not result.passed and "outside" in result.explanation


@pytest.mark.parametrize(
    "data",
    [
        {"path": "a.txt"},
        {"path": "a.txt", "equals": "x", "contains": "x"},
        {"path": "a.txt", "exists": False, "json": None},
    ],
)
def test_a_file_scorer_needs_exactly_one_check(data: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError, match="exactly one of equals, contains"):
        FileScorer.model_validate(data)


def test_a_file_scorer_refuses_a_broken_regex() -> None:
    with pytest.raises(pydantic.ValidationError, match="not a regular expression"):
        FileScorer(path="a.txt", regex="[")


# -- sql -----------------------------------------------------------------------------------


async def test_sql_rows_in_any_order_or_in_order(world: World) -> None:
    run_sql(world, "INSERT INTO orders (item, qty, price) VALUES ('plum', 2, 1.0);")
    query = "SELECT item, qty FROM orders ORDER BY item"
    shuffled = [["plum", 2], ["apple", 3], ["pear", 1]]
    assert (await check(SQLScorer(query=query, rows=shuffled), world)).passed
    ordered = await check(SQLScorer(query=query, rows=shuffled, ordered=True), world)
    assert not ordered.passed and "in this order" in ordered.explanation
    sorted_rows = [["apple", 3], ["pear", 1], ["plum", 2]]
    assert (await check(SQLScorer(query=query, rows=sorted_rows, ordered=True), world)).passed


async def test_sql_rows_are_a_multiset(world: World) -> None:
    query = "SELECT item FROM orders"
    twice = await check(SQLScorer(query=query, rows=[["apple"], ["apple"]]), world)
    assert not twice.passed
    assert '[["apple"], ["apple"]]' in twice.explanation
    assert '[["apple"], ["pear"]]' in twice.explanation
    fewer = await check(SQLScorer(query=query, rows=[["apple"]]), world)
    assert not fewer.passed


async def test_sql_value_compares_numbers_by_value(world: World) -> None:
    scorer = SQLScorer(query="SELECT SUM(qty * price) FROM orders", value=2.25)
    assert (await check(scorer, world)).passed
    run_sql(world, "UPDATE orders SET qty = 10 WHERE item = 'apple';")
    bad = await check(scorer, world)
    assert not bad.passed
    assert "Expected 2.25, the query returned 5.75." == bad.explanation
    count = SQLScorer(query="SELECT COUNT(*) FROM orders WHERE qty > 5", value=1)
    assert (await check(count, world)).passed


async def test_sql_value_needs_one_row_of_one_column(world: World) -> None:
    result = await check(SQLScorer(query="SELECT item FROM orders", value="apple"), world)
    assert not result.passed and "returned 2 row(s)" in result.explanation


async def test_sql_count(world: World) -> None:
    scorer = SQLScorer(query="SELECT * FROM orders WHERE item = 'kiwi'", count=1)
    before = await check(scorer, world)
    assert not before.passed
    assert before.explanation == "Expected 1 row(s), the query returned 0."
    run_sql(world, "INSERT INTO orders (item, qty, price) VALUES ('kiwi', 5, 0.2);")
    assert (await check(scorer, world)).passed


async def test_sql_errors_are_failed_scores_with_the_database_message(world: World) -> None:
    missing = await check(SQLScorer(query="SELECT * FROM customers", count=0), world)
    assert not missing.passed and "no such table: customers" in missing.explanation
    write = await check(SQLScorer(query="DELETE FROM orders", count=0), world)
    assert not write.passed and "readonly" in write.explanation
    assert (await check(SQLScorer(query="SELECT COUNT(*) FROM orders", value=2), world)).passed


def test_an_sql_scorer_needs_exactly_one_expectation() -> None:
    with pytest.raises(pydantic.ValidationError, match="exactly one of rows, value, count"):
        SQLScorer(query="SELECT 1")
    with pytest.raises(pydantic.ValidationError, match="got rows, count"):
        SQLScorer(query="SELECT 1", rows=[[1]], count=1)


def test_an_sql_value_of_null_counts_as_given() -> None:
    scorer = SQLScorer.model_validate({"type": "sql", "query": "SELECT NULL", "value": None})
    assert "value" in scorer.model_fields_set


# -- memory --------------------------------------------------------------------------------


async def remember(world: World) -> None:
    async with Store(world.memory_url) as store:
        graph = KnowledgeGraph(store)
        await graph.create_entities([Entity(name="Bob", entity_type="person")])
        await graph.add_observations({"Bob": ["Allergic to PEANUTS"]})
        await graph.create_relations(
            [Relation(source="Bob", relation_type="manages", target="Alice")]
        )
        await graph.delete_entities(["Acme"])


async def test_memory_entity_with_type_observation_and_relation(world: World) -> None:
    scorer = MemoryScorer.model_validate(
        {
            "type": "memory",
            "entity": "Bob",
            "entity_type": "person",
            "observation": "peanuts",
            "relation": {"to": "Alice", "type": "manages"},
        }
    )
    before = await check(scorer, world)
    assert not before.passed
    assert "Expected entity 'Bob'" in before.explanation and '"Alice"' in before.explanation
    await remember(world)
    assert (await check(scorer, world)).passed


async def test_memory_names_each_check_that_failed(world: World) -> None:
    scorer = MemoryScorer(
        entity="Alice",
        entity_type="robot",
        observation="coffee",
        relation=RelationCheck(to="Initech", type="works_at"),
    )
    result = await check(scorer, world)
    assert not result.passed
    assert "its type is 'person', expected 'robot'" in result.explanation
    assert "no observation contains 'coffee'" in result.explanation
    assert '"Likes tea"' in result.explanation
    assert "no relation 'works_at' to 'Initech'" in result.explanation
    assert '"works_at Acme"' in result.explanation


async def test_memory_absent(world: World) -> None:
    scorer = MemoryScorer(entity="Acme", absent=True)
    before = await check(scorer, world)
    assert not before.passed and "Expected no entity 'Acme'" in before.explanation
    await remember(world)
    assert (await check(scorer, world)).passed


def test_memory_absent_cannot_check_more() -> None:
    with pytest.raises(pydantic.ValidationError, match="absent: true cannot also"):
        MemoryScorer(entity="Acme", absent=True, entity_type="company")
    with pytest.raises(pydantic.ValidationError, match="extra"):
        MemoryScorer.model_validate({"entity": "A", "relation": {"target": "B", "type": "x"}})
