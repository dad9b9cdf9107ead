"""Thread pages: checkpointed graph threads, each step's state and what changed in it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..store import Checkpoint, CheckpointInfo
from ._html import esc, json_block, link, table, url

__all__ = ["state_diff", "thread_page", "threads_page"]


def threads_page(threads: Sequence[tuple[str, CheckpointInfo | None]]) -> str:
    """Every thread with its newest step."""
    if not threads:
        return (
            "<p>No graph threads in this store yet: compile a graph with "
            "<code>checkpointer=CheckpointStore(store)</code>.</p>"
        )
    rows = (
        [
            link(url("threads", thread_id), thread_id, data_thread=thread_id),
            esc(info.step if info else "-"),
            esc(", ".join(info.next_nodes) if info and info.next_nodes else "finished"),
            esc(info.created_at.strftime("%Y-%m-%d %H:%M:%S") if info else "-"),
        ]
        for thread_id, info in threads
    )
    return table(["thread", "last step", "next", "committed"], rows, ident="threads")


def thread_page(
    steps: Sequence[CheckpointInfo], current: Checkpoint, before: Checkpoint | None
) -> str:
    """One step of a thread: links to every step, the state, the diff, fork/resume commands."""
    thread_id = current.thread_id
    nav = " ".join(
        link(
            url("threads", thread_id, step=str(s.step)),
            f"step {s.step}",
            class_="current" if s.step == current.step else "step",
            data_step=str(s.step),
        )
        for s in steps
    )
    nxt = ", ".join(current.next_nodes) or "nothing (the run had finished)"
    parts = [
        f'<div class="steps" id="steps">{nav}</div>',
        f'<h2 id="step-title">Step {current.step}</h2>',
        f"<p>Next: {esc(nxt)}. Committed {esc(current.created_at.isoformat())}.</p>",
    ]
    if current.interrupt is not None:
        parts.append(f"<p><b>Waiting for an answer:</b></p>{json_block(current.interrupt)}")
    diff = state_diff(before.state if before else {}, current.state)
    parts.append(f"<h3>Changed in this step</h3>{_diff_table(diff)}")
    parts.append(f"<h3>State after this step</h3>{json_block(current.state, id='state')}")
    parts.append(_commands(thread_id, current.step))
    return "".join(parts)


def state_diff(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """The fields that differ: (field, value before, value after); missing is None."""
    keys = sorted(set(before) | set(after))
    return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


def _diff_table(diff: list[tuple[str, Any, Any]]) -> str:
    if not diff:
        return "<p>No field changed.</p>"
    rows = ([esc(field), _value(old, "removed"), _value(new, "added")] for field, old, new in diff)
    return table(["field", "before", "after"], rows, ident="diff")


def _value(value: Any, css: str) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return f'<pre class="{css}">{esc(text)}</pre>'


def _commands(thread_id: str, step: int) -> str:
    fork = (
        f"new_thread = await graph.fork({thread_id!r}, step={step})\nawait graph.resume(new_thread)"
    )
    resume = f"await graph.resume({thread_id!r})  # continue from the newest step"
    return (
        "<h3>Fork or resume</h3><p>With the compiled graph and the same checkpointer:</p>"
        f'<pre id="fork-command">{esc(fork)}</pre><pre id="resume-command">{esc(resume)}</pre>'
    )
