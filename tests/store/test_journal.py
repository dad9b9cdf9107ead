"""EffectJournal conformance: the first recorded result of a key wins, per thread."""

from __future__ import annotations

import anyio
import pytest

from covey import UsageError
from covey.store import Effect, EffectJournal, Store

from .conftest import Backend


async def test_record_then_get(store: Store) -> None:
    journal = EffectJournal(store)
    assert await journal.get("t", "send:1") is None
    recorded = await journal.record("t", "send:1", {"message_id": 7, "to": ["a@b"]})
    assert recorded.result == {"message_id": 7, "to": ["a@b"]}
    got = await journal.get("t", "send:1")
    assert got is not None and got == recorded
    assert (got.thread_id, got.key) == ("t", "send:1")


async def test_recording_a_key_twice_keeps_the_first(store: Store) -> None:
    journal = EffectJournal(store)
    await journal.record("t", "k", "first")
    again = await journal.record("t", "k", "second")
    assert again.result == "first"
    got = await journal.get("t", "k")
    assert got is not None and got.result == "first"


async def test_a_recorded_null_is_not_a_missing_effect(store: Store) -> None:
    journal = EffectJournal(store)
    await journal.record("t", "void", None)
    got = await journal.get("t", "void")
    assert isinstance(got, Effect) and got.result is None


async def test_keys_are_per_thread(store: Store) -> None:
    journal = EffectJournal(store)
    await journal.record("a", "k", 1)
    await journal.record("b", "k", 2)
    a, b = await journal.get("a", "k"), await journal.get("b", "k")
    assert a is not None and b is not None and (a.result, b.result) == (1, 2)


async def test_results_must_be_json(store: Store) -> None:
    with pytest.raises(UsageError, match="effect's result must be JSON"):
        await EffectJournal(store).record("t", "k", object())


async def test_workers_racing_on_one_key_all_see_the_winner(backend: Backend, store: Store) -> None:
    async with backend.store() as twin:
        journals = [EffectJournal(store), EffectJournal(twin)] * 3
        seen: list[object] = []

        async def record(journal: EffectJournal, worker: int) -> None:
            seen.append((await journal.record("t", "charge", {"worker": worker})).result)

        async with anyio.create_task_group() as group:
            for worker, journal in enumerate(journals):
                group.start_soon(record, journal, worker)
        assert len(seen) == 6 and all(result == seen[0] for result in seen)
        stored = await journals[1].get("t", "charge")
        assert stored is not None and stored.result == seen[0]
