"""Memory pages: the namespaces in the store, and a full-text search within one."""

from __future__ import annotations

from collections.abc import Sequence

from ..store import Memory
from ._html import esc, link, table, url

__all__ = ["memory_page"]


def memory_page(
    namespaces: Sequence[tuple[str, int]],
    namespace: str | None,
    query: str,
    found: Sequence[Memory],
) -> str:
    """The namespaces, a search form, and what the search found."""
    if not namespaces:
        return "<p>No memories in this store yet (<code>LongTermMemory.remember()</code>).</p>"
    listed = table(
        ["namespace", "observations"],
        ([link(url("memory", ns=ns), ns), esc(n)] for ns, n in namespaces),
        ident="namespaces",
    )
    options = "".join(
        f'<option value="{esc(ns)}"{" selected" if ns == namespace else ""}>{esc(ns)}</option>'
        for ns, _ in namespaces
    )
    form = (
        '<form action="/memory" method="get" id="search"><select name="ns">'
        f'{options}</select> <input type="text" name="q" value="{esc(query)}" '
        'placeholder="search memories"> <button type="submit">search</button></form>'
    )
    if namespace is None or not query:
        return listed + form
    results = table(
        ["about", "memory", "score", "updated"],
        (
            [esc(m.about), esc(m.text), esc(f"{m.score:.3f}"), esc(m.updated_at.isoformat())]
            for m in found
        ),
        ident="results",
    )
    heading = f"<h2>{len(found)} found in {esc(namespace)} for {esc(query)!s}</h2>"
    return listed + form + heading + results
