"""The JSON report: a run's summary and every trial, for other tools to read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .._errors import UsageError
from ._prices import PriceTable
from ._results import RunResults
from ._summary import RunSummary, summarize

__all__ = ["REPORT_FORMAT", "json_report", "write_json_report", "read_json_report"]

REPORT_FORMAT = "covey.eval-report/1"
"""The `format` field of every JSON report; bumped when a field changes meaning."""


def json_report(results: RunResults, summary: RunSummary | None = None) -> dict[str, Any]:
    """The report as JSON-ready data: `format`, `summary`, `cases` and `trials`.

    `summary` holds the figures of `RunSummary` (rates as fractions, latency in seconds);
    `trials` holds every recorded trial with its scores and transcript.
    """
    summary = summary if summary is not None else summarize(results)
    return {
        "format": REPORT_FORMAT,
        "summary": summary.model_dump(mode="json"),
        "cases": [case.model_dump(mode="json") for case in results.cases],
        "trials": [trial.model_dump(mode="json") for trial in results.trials],
    }


def write_json_report(
    path: str | Path, results: RunResults, *, prices: PriceTable | None = None
) -> Path:
    """Write the JSON report for a run to `path` (parents created) and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = json_report(results, summarize(results, prices=prices))
    target.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def read_json_report(path: str | Path) -> RunResults:
    """Read a run back from a JSON report written by `write_json_report`.

    Raises:
        UsageError: the file is missing or is not a covey JSON report.
    """
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"Cannot read the report {str(file)!r}: {e.strerror}.") from e
    except ValueError as e:
        raise UsageError(f"The report {str(file)!r} is not JSON: {e}.") from e
    if not isinstance(data, dict) or data.get("format") != REPORT_FORMAT:  # pyright: ignore[reportUnknownMemberType]
        raise UsageError(
            f'{str(file)!r} is not a covey JSON report (no "format": "{REPORT_FORMAT}"): '
            "write one with `covey report RUN --json PATH`."
        )
    try:
        return RunResults.model_validate(
            {"run": data["summary"]["run"], "cases": data["cases"], "trials": data["trials"]}
        )
    except (KeyError, TypeError, ValidationError) as e:
        raise UsageError(f"The report {str(file)!r} is damaged: {e}.") from e
