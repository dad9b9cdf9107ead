"""`covey rate` as a command: the scorecard, the JSON report (and its schema), the HTML report
rendered by headless Chromium, and one-line errors."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from covey.cli import main
from covey.rating import SCHEMA_VERSION, Rating
from covey.rating._report_json import SCHEMA_PATH, rating_schema, read_json_report
from tests.evals.test_html_report import parse, run_chromium
from tests.servers.external import covey_command

from .conftest import notes_command

pytestmark = pytest.mark.timeout(300, func_only=False)


@dataclass(frozen=True, slots=True)
class Run:
    done: subprocess.CompletedProcess[str]
    json_path: Path
    html_path: Path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """`covey rate --json --html -- <the notes server that fetches loopback>`, run once."""
    base = tmp_path_factory.mktemp("rate-cli")
    json_path, html_path = base / "rating.json", base / "out" / "rating.html"
    command = [*covey_command(), "rate", "--calls", "4", "--timeout", "10"]
    command += ["--json", str(json_path), "--html", str(html_path), "--"]
    command += notes_command("fetch-loopback")
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)
    return Run(done=done, json_path=json_path, html_path=html_path)


def test_the_scorecard_shows_grades_and_the_finding_with_its_evidence(run: Run) -> None:
    assert run.done.returncode == 0, run.done.stderr[-2000:]
    out = run.done.stdout
    assert "server notes 1.0; protocols 2025-11-25, 2026-07-28; 4 tools" in out
    assert "  security     B   80" in out
    assert "[high] security.ssrf.loopback: fetch_title fetched a loopback address" in out
    assert 'sent:     {"url": "http://127.0.0.1:' in out
    assert "Grades: score = 100 minus" in out


def test_the_json_report_follows_its_published_schema(run: Run) -> None:
    data = json.loads(run.json_path.read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    Draft202012Validator(json.loads(SCHEMA_PATH.read_text())).validate(data)
    rating = read_json_report(run.json_path)
    assert [f.check for f in rating.findings("security")] == ["security.ssrf.loopback"]


def test_the_published_schema_is_the_models_schema() -> None:
    """Edit the models, then regenerate covey/rating/rating.schema.json (and bump the version
    if a field changed meaning)."""
    assert json.loads(SCHEMA_PATH.read_text()) == rating_schema()


def test_chromium_renders_the_badges_and_every_finding(run: Run, tmp_path: Path) -> None:
    rating = Rating.model_validate_json(run.json_path.read_text())
    html = run.html_path.read_text()
    for external in ("<link", "src=", "url(", "@import", "https://"):
        assert external not in html
    assert "<p>COVEY-LOOPBACK" not in html  # the fetched page is evidence, shown escaped
    assert "&lt;p&gt;COVEY-LOOPBACK" in html
    page = parse(run_chromium(tmp_path, "--dump-dom", run.html_path.as_uri()).stdout)
    assert page.root.get("data-ready") == "1", "the report's script did not run"
    for report in rating.dimensions:
        attrs, _ = page.by_id[f"badge-{report.name}"]
        assert attrs["data-grade"] == report.grade and attrs["data-score"] == str(report.score)
    assert page.by_id["badge-security"][0]["data-grade"] == "B"
    shown = html.count('class="finding ')
    assert shown == len(rating.findings()) > 0
    assert (
        page.by_id["measure-ready_s"][1]
        == f"{rating.dimension('performance').measurements['ready_s']:g}"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Nothing to rate: give `covey rate -- COMMAND [ARGS...]` or `covey rate URL`."),
        (["http://127.0.0.1:9/mcp", "--header", "nokv"], "--header 'nokv' is not K=V"),
        (["--calls", "0", "--", "true"], "--calls must be at least 1"),
        (
            ["--copy", "/no/such/file.db", "--", "true"],
            "No file to copy into the working directory",
        ),
    ],
)
def test_bad_arguments_are_one_line_errors(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rate", *args]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_a_command_that_does_not_exist_is_rated_as_not_starting() -> None:
    done = subprocess.run(
        [*covey_command(), "rate", "--", "/no/such/server-binary"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done
    assert "INCOMPLETE: the server did not start or connect: FileNotFoundError" in done.stdout
