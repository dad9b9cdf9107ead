"""A rater that cannot fail is worthless: each deliberately broken server gets its finding.

The notes fixture server is correct by default; each defect breaks one thing. The correct
server must get none of the defects' findings, and each defective one its own finding, naming
the tool and the input, and a lower grade in that dimension than the correct server.
"""

from __future__ import annotations

import pytest

from covey.rating import DimensionName, RateOptions, Rating

from .conftest import rate_all, rate_notes

DEFECTS: dict[str, tuple[DimensionName, str, str]] = {
    # defect: (dimension, check, tool)
    "symlink-escape": ("security", "security.path_escape", "read_note"),
    "read-only-writes": ("security", "security.read_only_writes", "count_words"),
    "crash-on-long-string": ("robustness", "robustness.crash", "count_words"),
    "hang": ("robustness", "robustness.hang", "count_words"),
    "hang-one-call": ("robustness", "robustness.hang", "count_words"),
    "undocumented": ("definitions", "definitions.description.missing", "x"),
    "fetch-loopback": ("security", "security.ssrf.loopback", "fetch_title"),
    "sql-writes": ("security", "security.read_only_writes", "query"),
}
BOUNDED = RateOptions(call_timeout=5, start_timeout=8, malformed_calls=8, budget=30)

pytestmark = pytest.mark.timeout(400, func_only=False)


@pytest.fixture(scope="module")
def ratings() -> dict[str, Rating]:
    jobs = {defect: rate_notes(defect) for defect in ["none", *DEFECTS]}
    jobs["silent"] = rate_notes("silent", BOUNDED)
    jobs["hang-budget"] = rate_notes("hang", _tight_budget())
    return rate_all(jobs)


def _tight_budget() -> RateOptions:
    return RateOptions(call_timeout=5, start_timeout=30, malformed_calls=8, budget=12)


def test_the_correct_server_gets_none_of_the_defects_findings(ratings: dict[str, Rating]) -> None:
    correct = ratings["none"]
    assert correct.completed, correct.stopped_because
    assert correct.tools == ["query", "read_note", "count_words", "fetch_title"]
    found = {f.check for f in correct.findings()}
    assert not found & {check for _, check, _ in DEFECTS.values()}, correct.findings()
    for dimension in ("definitions", "robustness", "security"):
        assert correct.dimension(dimension).grade == "A", correct.dimension(dimension)
    security = "\n".join(correct.dimension("security").checks)
    assert "read_note.path: no path escape" in security
    assert "fetch_title.url: refused loopback targets" in security
    assert "count_words: read-only, and its working directory was unchanged" in security
    assert "query: read-only, and its working directory was unchanged" in security


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_each_defect_gets_its_finding_and_a_lower_grade(
    defect: str, ratings: dict[str, Rating]
) -> None:
    dimension, check, tool = DEFECTS[defect]
    rating = ratings[defect]
    findings = [f for f in rating.findings(check) if f.tool == tool]
    assert findings, f"{defect}: no {check} finding for {tool}: {rating.findings()}"
    assert findings[0].evidence.sent is not None or check.startswith("definitions")
    assert rating.dimension(dimension).score < ratings["none"].dimension(dimension).score
    assert rating.dimension(dimension).grade > ratings["none"].dimension(dimension).grade


def test_the_inputs_behind_findings_are_in_the_evidence(ratings: dict[str, Rating]) -> None:
    escape = ratings["symlink-escape"].findings("security.path_escape")[0]
    assert escape.evidence.sent == {"path": "escape/secret.txt"}
    assert "COVEY-CANARY" in str(escape.evidence.received)
    crash = ratings["crash-on-long-string"].findings("robustness.crash")[0]
    assert "200000 characters" in str(crash.evidence.sent)
    assert "exited with code 3" in str(crash.evidence.received)
    loopback = ratings["fetch-loopback"].findings("security.ssrf.loopback")[0]
    assert "/canary?probe=loopback" in str(loopback.evidence.received)
    writes = ratings["read-only-writes"].findings("security.read_only_writes")[0]
    assert "word-cache.txt: " in str(writes.evidence.received)
    (sql,) = ratings["sql-writes"].findings("security.read_only_writes")
    assert sql.evidence.sent == {"sql": "CREATE TABLE covey_probe (x INTEGER)"}
    assert "notes.db: changed" in str(sql.evidence.received)


@pytest.mark.parametrize(
    ("defect", "severity", "said"),
    [
        ("hang", "critical", "and then answered nothing at all"),
        ("hang-one-call", "high", "(other requests were still answered)"),
    ],
)
def test_a_hang_that_blocks_the_whole_server_is_worse_than_one_call_hanging(
    defect: str, severity: str, said: str, ratings: dict[str, Rating]
) -> None:
    (finding,) = ratings[defect].findings("robustness.hang")
    assert finding.severity == severity and said in finding.message, finding


@pytest.mark.parametrize("defect", ["crash-on-long-string", "hang", "hang-one-call"])
def test_a_crashing_or_hanging_server_is_restarted_and_rated_to_the_end(
    defect: str, ratings: dict[str, Rating]
) -> None:
    rating = ratings[defect]
    assert rating.completed, rating.stopped_because
    checks = "\n".join(rating.dimension("robustness").checks)
    assert "count_words: still answers a valid call after the malformed ones" in checks
    assert "fetch_title: still answers a valid call" in checks  # the tool rated after it
    assert rating.dimension("performance").measurements["calls_per_s"] > 0


def test_a_server_that_never_answers_is_rated_within_its_start_timeout(
    ratings: dict[str, Rating],
) -> None:
    rating = ratings["silent"]
    assert not rating.completed
    assert rating.stopped_because is not None
    assert "did not start or connect" in rating.stopped_because
    assert rating.dimension("protocol").grade in ("D", "F")
    assert rating.dimension("robustness").grade == "-"
    assert rating.duration_s < BOUNDED.budget


def test_a_rating_stops_at_its_budget_and_says_so(ratings: dict[str, Rating]) -> None:
    rating = ratings["hang-budget"]
    assert not rating.completed
    assert rating.stopped_because == "the rating's time budget of 12s ran out"
    assert rating.duration_s < 12 + 10  # the budget, plus the server's kill
