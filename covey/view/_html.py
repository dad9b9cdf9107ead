"""HTML building blocks for `covey view`: one page layout, tables, JSON blocks.

Every value from the store goes through `esc` (or `json_block`): traces and transcripts
hold model output and tool results, which are untrusted text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

__all__ = ["esc", "json_block", "link", "page", "table", "url"]

_NAV = (("/", "Eval runs"), ("/traces", "Traces"), ("/threads", "Threads"), ("/memory", "Memory"))


def esc(value: object) -> str:
    """`value` as text safe inside HTML elements and quoted attributes."""
    return escape(str(value), quote=True)


def url(*parts: str, **query: str) -> str:
    """A path from segments, each percent-encoded, with an optional query string."""
    path = "/" + "/".join(quote(part, safe="") for part in parts)
    if query:
        path += "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
    return path


def _attributes(attributes: dict[str, str]) -> str:
    # class_ -> class, data_run -> data-run
    return "".join(f' {k.rstrip("_").replace("_", "-")}="{esc(v)}"' for k, v in attributes.items())


def link(href: str, text: object, **attributes: str) -> str:
    """An `<a>` element; `href` is escaped, so build it with `url`."""
    return f'<a href="{esc(href)}"{_attributes(attributes)}>{esc(text)}</a>'


def json_block(value: Any, **attributes: str) -> str:
    """A `<pre>` with `value` as indented JSON."""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return f"<pre{_attributes(attributes)}>{esc(text)}</pre>"


def table(head: Sequence[str], rows: Iterable[Sequence[str]], *, ident: str = "") -> str:
    """A table; `head` is plain text, each row's cells are HTML already."""
    heading = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    id_attr = f' id="{esc(ident)}"' if ident else ""
    return f"<table{id_attr}><thead><tr>{heading}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, body: str, *, stamp: str | None = None) -> str:
    """A whole page; with `stamp`, it reloads itself when the store's stamp changes."""
    nav = " ".join(link(href, text) for href, text in _NAV)
    live = f' data-stamp="{esc(stamp)}"' if stamp is not None else ""
    script = '<script src="/static/live.js" defer></script>' if stamp is not None else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)} - covey view</title>"
        '<link rel="stylesheet" href="/static/view.css">'
        f"{script}</head><body{live}><nav>{nav}</nav><main><h1>{esc(title)}</h1>"
        f"{body}</main></body></html>"
    )
