"""The HTML report, rendered by headless Chromium: the page shows the computed figures."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from covey.evals._prices import PriceTable
from covey.evals._report_html import html_report, write_html_report
from covey.evals._summary import RunSummary, summarize

from .report_data import HOSTILE, OUTCOMES, make_run

PRICES = PriceTable.from_mapping({"tiny": {"input": 1.0, "output": 2.0}})
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        reason = "chromium is not installed (Debian: apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must have it (.ci/run installs it).")
        print(f"SKIPPED: {reason}")
        pytest.skip(reason)
    return found


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    command = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


class Elements(HTMLParser):
    """Collects every element with an id: its attributes and direct text."""

    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, tuple[dict[str, str | None], str]] = {}
        self.root: dict[str, str | None] = {}
        self.tags: list[str] = []
        self.texts: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        if tag == "html":
            self.root = found
        ident = found.get("id")
        if ident is not None:
            self.by_id[ident] = (found, "")
        self._open.append(ident or "")

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        self.texts.append(data)
        if self._open and self._open[-1]:
            attrs, text = self.by_id[self._open[-1]]
            self.by_id[self._open[-1]] = (attrs, text + data)


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    return parser


def expected_stats(summary: RunSummary) -> dict[str, tuple[float, str]]:
    o = summary.overall
    assert o.success is not None and o.latency is not None and o.cost is not None
    return {
        "stat-success-rate": (o.success.rate, f"{o.success.rate * 100:.1f}%"),
        "stat-ci-low": (o.success.low, f"{o.success.low * 100:.1f}%"),
        "stat-ci-high": (o.success.high, f"{o.success.high * 100:.1f}%"),
        "stat-passed": (o.passed, str(o.passed)),
        "stat-failed": (o.failed, str(o.failed)),
        "stat-errors": (o.errors, str(o.errors)),
        "stat-pass-hat-k": (1 / 3, "33.3%"),
        "stat-pass-at-k": (2 / 3, "66.7%"),
        "stat-mean-score": (7 / 11, "0.64"),
        "stat-input-tokens": (7800, "7,800"),
        "stat-output-tokens": (780, "780"),
        "stat-cost": (o.cost, "0.0094 USD"),
        "stat-latency-p50": (3.0, "3.00"),
        "stat-latency-p95": (5.5, "5.50"),
        "stat-tool-calls": (12, "12"),
        "stat-valid-tool-names": (1.0, "100.0%"),
        "stat-valid-arguments": (1.0, "100.0%"),
        "stat-tool-errors": (4 / 12, "33.3%"),
    }


def png_pixels(png: bytes) -> tuple[int, int, bytes]:
    """Width, height and the inflated image data of a PNG file."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    data, offset = b"", 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        if kind == b"IDAT":
            data += png[offset + 8 : offset + 8 + length]
        offset += 12 + length
    return width, height, zlib.decompress(data)


def test_report_is_self_contained_and_escaped() -> None:
    html = html_report(make_run())
    for external in ("<link", "src=", "url(", "@import", "https://"):
        assert external not in html
    page = parse(html)
    assert page.tags.count("script") == 1  # ours; the transcript's <script> is text
    assert any(HOSTILE in text for text in page.texts)
    assert page.tags.count("details") == 12
    assert {"chart-cases", "chart-latency", "chart-trial-index"} <= set(page.by_id)
    assert page.tags.count("svg") == 3


def test_chromium_renders_the_summary_numbers(tmp_path: Path) -> None:
    run = make_run()
    summary = summarize(run, prices=PRICES)
    path = write_html_report(tmp_path / "report.html", run, prices=PRICES)

    dom = run_chromium(tmp_path, "--dump-dom", path.as_uri()).stdout
    page = parse(dom)
    assert page.root.get("data-ready") == "1", "the report's script did not run"
    assert page.by_id["trials-shown"][1] == "12"
    for ident, (value, shown) in expected_stats(summary).items():
        attrs, text = page.by_id[ident]
        assert float(attrs["data-value"] or "nan") == pytest.approx(value, abs=1e-12), ident
        assert text == shown, ident
    assert page.by_id["stat-pass-hat-k"][0]["data-k"] == "3"
    assert page.tags.count("script") == 1
    assert page.tags.count("details") == 12

    shot = tmp_path / "report.png"
    run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", path.as_uri())
    assert shot.exists()
    width, height, pixels = png_pixels(shot.read_bytes())
    assert (width, height) == (1280, 2000)
    # A blank page inflates to a handful of byte values; text and charts to many.
    assert len(set(pixels)) > 64
    assert shot.stat().st_size > 20_000


def test_case_rows_carry_their_rates() -> None:
    page = parse(html_report(make_run()))
    assert page.by_id["cases"][0]["id"] == "cases"
    html = html_report(make_run())
    assert 'data-case-id="sum-rows" data-rate="0.6666666666666666"' in html
    assert 'data-case-id="convert-time" data-rate="1.0"' in html


def test_a_run_of_one_trial_per_case_has_no_chart_by_trial() -> None:
    one = {case: (tags, letters[0]) for case, (tags, letters) in OUTCOMES.items()}
    assert "chart-trial-index" not in parse(html_report(make_run("run-1", one))).by_id
    assert "Success by trial" not in html_report(make_run("run-1", one))
    assert "chart-trial-index" in parse(html_report(make_run())).by_id  # 3 trials per case


def test_the_latency_histogram_labels_its_axes() -> None:
    html = html_report(make_run())
    latency = html.split('id="chart-latency"')[1].split("</svg>")[0]
    texts = re.findall(r">([^<>]+)</text>", latency)
    assert texts[0:2] == ["3", "0"]  # trials in the fullest bin, and none
    assert "trials" in texts and "latency per trial (s)" in texts
    assert texts[3:8] == ["0.50", "1.88", "3.25", "4.62", "6.00"]  # seconds, as in the tables


def test_trials_are_numbered_from_one_and_figures_formatted_as_in_the_tables() -> None:
    html = html_report(make_run())
    assert "read-file #1 score 1.00 0.50 s 110 tokens 2 turns" in html
    by_trial = html.split('id="chart-trial-index"')[1].split("</svg>")[0]
    assert re.findall(r">(#\d)</text>", by_trial) == ["#1", "#2", "#3"]  # as `By trial  #1`
