"""`covey view` in headless Chromium: click from a run to a trial's tool call, through a
trace, step through a thread, and watch a page update while a graph runs.

Playwright drives Debian's /usr/bin/chromium (never a downloaded browser). Screenshots go
to the test's tmp_path; with COVEY_VIEW_SCREENSHOT=PATH the trace page's is also copied
there (how docs/covey-view.png is made).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import pytest
from playwright import sync_api as playwright_sync

from covey.evals._recording import load_run, record_trial, start_run
from covey.store import Store

from .conftest import THREAD, Viewer, run_thread

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _chromium() -> str:
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found is None:
        reason = "chromium is not installed (Debian: apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must have it (.ci/run installs it).")
        print(f"SKIPPED: {reason}")
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[playwright_sync.Browser]:
    executable = _chromium()
    with playwright_sync.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=ARGS, timeout=60_000)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: playwright_sync.Browser) -> Iterator[playwright_sync.Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_from_the_runs_list_to_a_tool_calls_arguments_and_its_span(
    page: playwright_sync.Page, viewer: Viewer, tmp_path: Path
) -> None:
    page.goto(viewer.url)
    page.click(f'a[data-run="{viewer.run_id}"]')
    page.click('a[data-case="calc-multiply"]')
    arguments = page.locator('.tool-call[data-tool="calculate"] pre.arguments')
    assert '"expression": "1234 * 5678"' in arguments.inner_text()
    page.screenshot(path=tmp_path / "trial.png", full_page=True)

    page.click("#trace-link")
    tool = page.locator('details[data-span="execute_tool calculate"]')
    assert not tool.locator("pre").first.is_visible()  # folded until clicked
    tool.locator("summary").click()
    assert "1234 * 5678" in tool.locator("pre").first.inner_text()
    shot = tmp_path / "trace.png"
    page.screenshot(path=shot, full_page=True)
    target = os.environ.get("COVEY_VIEW_SCREENSHOT")
    if target:
        shutil.copyfile(shot, target)


async def _copy_trials(db: str, source: str, target: str, cases: list[str]) -> None:
    """Record `cases`' trials of run `source` under an unfinished run `target`."""
    async with Store.from_url(db) as store:
        done = await load_run(store, source)
        running = done.run.model_copy(update={"run_id": target, "finished_at": None})
        await start_run(store, running, done.cases)
        for trial in done.trials:
            if trial.case_id in cases:
                await record_trial(store, trial.model_copy(update={"run_id": target}))


def _in_thread(function: Callable[..., Awaitable[None]], *args: str | list[str]) -> None:
    # Playwright's sync API holds this thread's event loop: store writes run on another.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(anyio.run, function, *args).result(timeout=60)


def test_a_running_eval_shows_each_trial_as_it_is_recorded(
    page: playwright_sync.Page, viewer: Viewer, tmp_path: Path
) -> None:
    _in_thread(_copy_trials, viewer.db, viewer.run_id, "mini-running", ["calc-multiply"])
    page.goto(viewer.url)
    page.click('a[data-run="mini-running"]')
    assert "running" in page.locator("#summary").inner_text()
    assert page.locator('a[data-case="files-launch-code"]').count() == 0
    _in_thread(_copy_trials, viewer.db, viewer.run_id, "mini-running", ["files-launch-code"])
    page.click('a[data-case="files-launch-code"]', timeout=60_000)  # once the page reloads
    call = page.locator('.tool-call[data-tool="read_text_file"] pre.arguments')
    assert json.loads(call.inner_text()) == {"path": "notes.txt"}
    page.screenshot(path=tmp_path / "running-trial.png", full_page=True)


def test_stepping_through_a_threads_checkpoints(
    page: playwright_sync.Page, viewer: Viewer, tmp_path: Path
) -> None:
    page.goto(viewer.url + "threads")
    page.click(f'a[data-thread="{THREAD}"]')
    steps = page.locator("#steps a").all_inner_texts()
    assert len(steps) >= 3
    seen: list[str] = []
    for index in range(len(steps)):
        page.locator("#steps a").nth(index).click()
        title = page.locator("#step-title").inner_text()
        assert title == steps[index].replace("step", "Step")
        seen.append(page.locator("#state").inner_text())
    assert '"total": 70' in seen[-1] and '"total": 70' not in seen[0]
    page.screenshot(path=tmp_path / "thread.png", full_page=True)


def test_an_open_page_shows_a_thread_committed_after_it_loaded(
    page: playwright_sync.Page, viewer: Viewer
) -> None:
    page.goto(viewer.url + "threads")
    assert page.locator('a[data-thread="live-browser"]').count() == 0
    _in_thread(run_thread, viewer.db, "live-browser")
    page.wait_for_selector('a[data-thread="live-browser"]', timeout=60_000)
