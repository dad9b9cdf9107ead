"""The built-in suite: every task can be passed, and every scorer fails in some mistake."""

from __future__ import annotations

from collections import Counter

import pytest

from covey.evals import check_suite, load_suite

SERVERS = ("files", "sql", "memory", "calc", "time")


def test_the_suite_covers_every_bundled_server_from_easy_to_hard() -> None:
    suite = load_suite("builtin")
    tags = Counter(tag for case in suite.cases for tag in case.tags)
    assert len(suite.cases) >= 30
    assert all(tags[server] >= 4 for server in SERVERS), tags
    assert all(tags[level] >= 5 for level in ("easy", "medium", "hard")), tags
    assert [c.id for c in load_suite("builtin:quick").cases] == [
        c.id for c in suite.cases if "quick" in c.tags
    ]
    assert all(case.solution and case.mistake for case in suite.cases)


@pytest.mark.timeout(600)
async def test_solutions_pass_and_every_scorer_fails_in_some_mistake() -> None:
    suite = load_suite("builtin")
    check = await check_suite(suite, concurrency=8)
    assert check.solution_failed == {}
    assert check.mistake_passed == [] and check.mistake_errored == {}
    assert check.scorers_never_failed == {}  # each scorer of each case failed in a mistake run
    assert check.unchecked == []
    assert check.ok
    assert sum(len(c.all_mistakes()) for c in suite.cases) > len(suite.cases)  # variants ran
