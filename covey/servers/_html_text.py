"""HTML to markdown for the fetch server, with the standard library's `html.parser`.

Keeps what a model reads: headings, paragraphs, links, lists, emphasis, code, quotes,
tables and images as markdown; drops scripts, styles, navigation and other page furniture.
"""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from urllib.parse import urljoin

__all__ = ["html_to_markdown"]

_DROPPED = frozenset(
    {
        "script", "style", "noscript", "template", "head", "nav", "svg", "iframe",
        "object", "canvas", "button", "select", "dialog", "menu",
    }
)  # fmt: skip
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
_BLOCKS = frozenset(
    {
        "p", "div", "section", "article", "main", "header", "footer", "aside", "figure",
        "figcaption", "table", "dl", "dt", "dd", "address", "details", "summary", "body",
    }
)  # fmt: skip
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_INLINE = {"strong": "**", "b": "**", "em": "*", "i": "*", "del": "~~", "s": "~~"}
_CHUNK = 32_768
"""Characters parsed between deadline checks."""
_SPACE = re.compile(r"[ \t\r\n\f\v]+")


class _Converter(HTMLParser):
    def __init__(self, base_url: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.out: list[str] = []
        self.dropped = 0
        self.pre = 0
        self.lists: list[list[int]] = []
        """One entry per open list: [next number] for <ol>, [] for <ul>."""
        self.links: list[tuple[int, str]] = []
        self.quotes: list[int] = []
        self.row_has_header = False
        self.row_cells = 0
        self.marker_end = -1
        """Length of `out` right after the last list marker: no break may follow it directly."""

    # Output helpers.
    def tail(self) -> str:
        return "".join(self.out[-3:])

    def block(self) -> None:
        if self.lists:  # paragraphs inside list items stay in the item
            self.line()
            return
        if self.out and not self.tail().endswith("\n\n"):
            self.out.append("\n\n" if not self.tail().endswith("\n") else "\n")

    def line(self) -> None:
        if len(self.out) == self.marker_end:
            return
        if self.out and not self.tail().endswith("\n"):
            self.out.append("\n")

    def url(self, value: str | None) -> str | None:
        if not value or value.strip().lower().startswith(("javascript:", "data:")):
            return None
        value = value.strip()
        return urljoin(self.base_url, value) if self.base_url else value

    # Parser callbacks.
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.dropped = 0  # <body> ends a <head> whose end tag was left out
        if tag in _DROPPED:
            if tag not in _VOID:
                self.dropped += 1
            return
        if self.dropped:
            return
        self.start(tag, dict(attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.dropped and tag not in _DROPPED:
            self.start(tag, dict(attrs))
            if tag not in _VOID:
                self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self.dropped = max(0, self.dropped - 1)
            return
        if not self.dropped:
            self.end(tag)

    def handle_data(self, data: str) -> None:
        if self.dropped:
            return
        if self.pre:
            self.out.append(data)
            return
        text = _SPACE.sub(" ", data)
        if not self.out or self.tail().endswith(("\n", " ")):
            text = text.lstrip(" ")
        if text:
            self.out.append(text)

    def start(self, tag: str, attrs: dict[str, str | None]) -> None:  # noqa: C901
        if tag in _HEADINGS:
            self.block()
            self.out.append("#" * _HEADINGS[tag] + " ")
        elif tag in _BLOCKS:
            self.block()
        elif tag == "br":
            self.out.append("\n")
        elif tag == "hr":
            self.block()
            self.out.append("---\n\n")
        elif tag == "pre":
            self.block()
            self.out.append("```\n")
            self.pre += 1
        elif tag == "code" and not self.pre:
            self.out.append("`")
        elif tag in _INLINE:
            self.out.append(_INLINE[tag])
        elif tag in ("ul", "ol"):
            self.line() if self.lists else self.block()
            self.lists.append([1] if tag == "ol" else [])
        elif tag == "li":
            self.line()
            numbering = self.lists[-1] if self.lists else []
            indent = "  " * max(0, len(self.lists) - 1)
            marker = f"{numbering[0]}." if numbering else "-"
            if numbering:
                numbering[0] += 1
            self.out.append(f"{indent}{marker} ")
            self.marker_end = len(self.out)
        elif tag == "a":
            self.links.append((len(self.out), self.url(attrs.get("href")) or ""))
        elif tag == "img":
            src = self.url(attrs.get("src"))
            if src:
                self.out.append(f"![{(attrs.get('alt') or '').strip()}]({src})")
        elif tag == "blockquote":
            self.block()
            self.quotes.append(len(self.out))
        elif tag == "tr":
            self.line()
            self.out.append("|")
            self.row_has_header, self.row_cells = False, 0
        elif tag in ("td", "th"):
            self.out.append(" ")
            self.row_has_header = self.row_has_header or tag == "th"
            self.row_cells += 1

    def end(self, tag: str) -> None:
        if tag in _HEADINGS or tag in _BLOCKS:
            self.block()
        elif tag == "pre" and self.pre:
            self.pre -= 1
            self.line()
            self.out.append("```\n\n")
        elif tag == "code" and not self.pre:
            self.out.append("`")
        elif tag in _INLINE:
            self.out.append(_INLINE[tag])
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            self.line() if self.lists else self.block()
        elif tag == "a" and self.links:
            start, href = self.links.pop()
            text = "".join(self.out[start:]).strip()
            del self.out[start:]
            self.out.append(f"[{text}]({href})" if href and text else text)
        elif tag == "blockquote" and self.quotes:
            start = self.quotes.pop()
            text = "".join(self.out[start:]).strip()
            del self.out[start:]
            self.out.append("\n".join(f"> {line}".rstrip() for line in text.splitlines()))
            self.block()
        elif tag in ("td", "th"):
            self.out.append(" |")
        elif tag == "tr":
            if self.row_has_header:
                self.out.append("\n|" + " --- |" * self.row_cells)
            self.line()


def html_to_markdown(
    html: str, base_url: str | None = None, *, deadline: float | None = None
) -> str:
    """Markdown for an HTML document; relative links are resolved against `base_url`.

    Args:
        html: The document.
        base_url: What relative links are relative to.
        deadline: A `time.monotonic()` value; the conversion stops once it is past.

    Raises:
        TimeoutError: the deadline passed before the conversion was done.
    """
    converter = _Converter(base_url)
    # Fed in pieces, so a page of countless small tags is cut off at the deadline.
    for start in range(0, len(html), _CHUNK):
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError("converting the page took too long")
        converter.feed(html[start : start + _CHUNK])
    converter.close()
    text = "".join(converter.out)
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
