"""`covey view` over HTTP: the pages show what the store holds, safely, and follow changes."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator

import anyio
import httpx2
import pytest

from covey.cli import main

from .conftest import NAMESPACE, THREAD, Viewer, run_thread, serving


@pytest.fixture
def client(viewer: Viewer) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=viewer.url, timeout=30) as client:
        yield client


def _get(client: httpx2.Client, path: str, **params: str) -> str:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text[-500:]
    return response.text


def _pres(page: str, css: str) -> list[str]:
    """The unescaped text of each `<pre class="css">`."""
    return [html.unescape(m) for m in re.findall(rf'<pre class="{css}">(.*?)</pre>', page, re.S)]


def test_the_runs_list_links_the_run_with_its_counts(client: httpx2.Client, viewer: Viewer) -> None:
    page = _get(client, "/")
    assert f'href="/runs/{viewer.run_id}"' in page
    row = page[page.index(f'data-run="{viewer.run_id}"') :]
    assert '<span class="passed">2</span>' in row.split("</tr>")[0]


def test_a_trial_shows_the_tool_calls_arguments_and_result(
    client: httpx2.Client, viewer: Viewer
) -> None:
    run = _get(client, f"/runs/{viewer.run_id}")
    trial = re.search(r'href="(/runs/[^"]+/trials/calc-multiply/0)"', run)
    assert trial is not None, run
    page = _get(client, trial.group(1))
    assert 'data-tool="calculate"' in page
    assert [json.loads(a) for a in _pres(page, "arguments")] == [{"expression": "1234 * 5678"}]
    assert "7006652" in page  # the calculator's result, in the tool message


def test_the_trials_trace_is_a_waterfall_with_tool_arguments_and_tokens(
    client: httpx2.Client, viewer: Viewer
) -> None:
    trial = _get(client, f"/runs/{viewer.run_id}/trials/calc-multiply/0")
    found = re.search(r'href="(/traces/[0-9a-f]{32})" id="trace-link"', trial)
    assert found is not None, "the trial page links its trace"
    page = _get(client, found.group(1))
    names = re.findall(r'data-span="([^"]+)"', page)
    assert names[0] == "eval_trial calc-multiply"  # the root comes first
    assert "execute_tool calculate" in names and names.count("chat scripted") == 2
    tool = page[page.index('data-span="execute_tool calculate"') :].split("</details>")[0]
    assert "1234 * 5678" in html.unescape(tool)
    chats = re.findall(r'data-span="chat scripted">.*?</summary>', page, re.S)
    assert len(chats) == 2 and all(re.search(r"\d+\+\d+ tok", chat) for chat in chats)


def test_a_thread_steps_through_checkpoints_with_the_diff_of_each(
    client: httpx2.Client,
) -> None:
    listed = _get(client, "/threads")
    assert f'data-thread="{THREAD}"' in listed
    first = _get(client, f"/threads/{THREAD}")
    steps = [int(s) for s in re.findall(r'data-step="(\d+)"', first)]
    assert steps == sorted(steps) and len(steps) >= 3
    priced = None
    for step in steps:
        page = _get(client, f"/threads/{THREAD}", step=str(step))
        assert f'<h2 id="step-title">Step {step}</h2>' in page
        if "<td>total</td>" in page:
            priced = page
    assert priced is not None, "one step sets the total"
    diff = priced[priced.index('id="diff"') :].split("</table>")[0]
    assert [json.loads(v) for v in _pres(diff, "added") if v.strip() == "70"] == [70]
    assert f"graph.fork({THREAD!r}, step=" in html.unescape(priced)


def test_memory_search_finds_the_matching_memory(client: httpx2.Client) -> None:
    page = _get(client, "/memory", ns=NAMESPACE, q="short answers")
    results = page[page.index('id="results"') :]
    assert "Ada prefers short answers" in results and "Grace" not in results


def test_two_runs_compare_case_by_case(client: httpx2.Client, viewer: Viewer) -> None:
    page = _get(client, "/compare", a=viewer.run_id, b=viewer.run_id)
    table = page[page.index('id="comparison"') :]
    assert "<td>calc-multiply</td>" in table and "<td>files-launch-code</td>" in table


def test_store_text_is_escaped(client: httpx2.Client) -> None:
    page = _get(client, "/memory", ns=NAMESPACE, q="<script>alert(1)</script>")
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_missing_run_is_a_404_saying_so(client: httpx2.Client) -> None:
    response = client.get("/runs/no-such-run")
    assert response.status_code == 404
    assert "No eval run &#x27;no-such-run&#x27;" in response.text


def test_foreign_hosts_and_origins_are_refused(client: httpx2.Client) -> None:
    assert client.get("/", headers={"Host": "attacker.example"}).status_code == 421
    assert client.get("/", headers={"Origin": "http://attacker.example"}).status_code == 403
    policy = client.get("/").headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy


def test_the_stamp_changes_when_a_graph_commits(client: httpx2.Client, viewer: Viewer) -> None:
    before = client.get("/api/stamp").json()["stamp"]
    anyio.run(run_thread, viewer.db, "live-http")
    assert client.get("/api/stamp").json()["stamp"] != before
    assert 'data-thread="live-http"' in _get(client, "/threads")


def test_off_loopback_the_view_needs_a_token(
    viewer: Viewer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["view", "--db", viewer.db, "--host", "0.0.0.0"]) == 1
    error = capsys.readouterr().err
    assert "without a token" in error and "--token" in error


def test_off_loopback_a_browser_brings_the_token_once_then_a_cookie(viewer: Viewer) -> None:
    with serving(viewer.db, "--host", "0.0.0.0", "--token", "s3cret") as url:
        port = url.rsplit(":", 1)[1].strip("/")
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            assert client.get("/").status_code == 401
            assert client.get("/", params={"token": "wrong"}).status_code == 401
            first = client.get("/", params={"token": "s3cret"})
            assert first.status_code == 200
            assert "HttpOnly" in first.headers["set-cookie"]
            assert client.get("/threads").status_code == 200  # the cookie carries it now
