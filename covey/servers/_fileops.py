"""File operations behind the files server's tools, all through `Roots` descriptors."""

from __future__ import annotations

import difflib
import fnmatch
import os
import stat
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ._paths import PathDenied, Roots, Target

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Edit",
    "Entry",
    "Limits",
    "apply_edits",
    "creatable",
    "format_size",
    "iso_time",
    "list_entries",
    "read_bytes",
    "read_lines",
    "search",
    "shown",
    "tree",
]

DEFAULT_MAX_BYTES = 4 * 1024 * 1024
"""Default read and write limit: 4 MiB, far more text than a model's context holds."""


MAX_DEPTH = 64
"""Deepest a tree or search descends (it recurses once per level)."""


_UNSHOWABLE = frozenset({"Cc", "Zl", "Zp"})
"""Unicode categories of control characters and line breaks."""


def _unshowable(char: str) -> bool:
    return unicodedata.category(char) in _UNSHOWABLE


def shown(name: str) -> str:
    r"""`name` with control characters and line breaks escaped (`\n`, `\x1b`, `\u2028`).

    A listing shows one entry a line: a name holding a line break must not read as two.
    """
    if name.isprintable():
        return name
    return "".join(repr(char)[1:-1] if _unshowable(char) else char for char in name)


def creatable(target: Target) -> Target:
    """`target`, if every name in it can be listed as it is; refused otherwise.

    Raises:
        PathDenied: a name holds a control character or a line break.
    """
    for part in target.parts:
        if any(_unshowable(char) for char in part):
            raise PathDenied(
                f"The name '{shown(part)}' contains a control character or line break, which "
                "would make listings ambiguous: pick a name without them."
            )
    return target


@dataclass(kw_only=True, slots=True, frozen=True)
class Limits:
    """Size limits that keep one call from exhausting memory or a model's context."""

    max_read_bytes: int = DEFAULT_MAX_BYTES
    """Largest file read whole, and the window head/tail look at in bigger ones."""
    max_write_bytes: int = DEFAULT_MAX_BYTES
    """Largest content written or produced by an edit."""
    max_entries: int = 10_000
    """Most entries a listing, tree or search visits before it stops."""


def read_bytes(roots: Roots, target: Target, limit: int) -> bytes:
    """The whole file, refusing files over `limit` bytes."""
    fd = roots.open_read(target)
    with os.fdopen(fd, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size > limit:
            raise PathDenied(
                f"{target.shown} is {format_size(size)}, over the {format_size(limit)} read "
                "limit: read part of it with head or tail."
            )
        data = file.read(limit + 1)
    if len(data) > limit:  # grew while we read
        raise PathDenied(f"{target.shown} grew past the {format_size(limit)} read limit.")
    return data


def read_lines(
    roots: Roots, target: Target, *, head: int | None, tail: int | None, limit: int
) -> str:
    """The first `head` or last `tail` lines, looking at no more than `limit` bytes."""
    fd = roots.open_read(target)
    with os.fdopen(fd, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if head is not None:
            data = file.read(limit)
            lines = data.decode("utf-8", errors="replace").splitlines(keepends=True)
            return "".join(lines[:head])
        start = max(0, size - limit)
        file.seek(start)
        data = file.read(limit)
    lines = data.decode("utf-8", errors="replace").splitlines(keepends=True)
    if start > 0 and lines:
        lines = lines[1:]  # the window began mid-line
    count = tail if tail is not None else 0
    return "".join(lines[-count:]) if count else ""


@dataclass(kw_only=True, slots=True, frozen=True)
class Edit:
    """One exact replacement."""

    old: str
    new: str


def apply_edits(text: str, edits: Sequence[Edit], shown: str) -> tuple[str, str]:
    """Apply exact replacements in order; return the new text and a unified diff.

    Each `old` must occur exactly once in the text as it stands after the earlier edits, so
    an edit never lands somewhere the caller did not mean. Files with CRLF line ends match
    `old` written with LF.

    Raises:
        PathDenied: An `old` text is empty, missing, or ambiguous.
    """
    crlf = "\r\n" in text
    result = text
    for number, edit in enumerate(edits, 1):
        old, new = edit.old, edit.new
        if crlf and old not in result:
            old, new = old.replace("\r\n", "\n").replace("\n", "\r\n"), new.replace("\n", "\r\n")
        if not old:
            raise PathDenied(f"Edit {number}: oldText is empty; give the exact text to replace.")
        count = result.count(old)
        if count == 0:
            raise PathDenied(
                f"Edit {number}: oldText not found in {shown}. Copy it exactly from the file "
                "(whitespace and line breaks included); read the file first if unsure."
            )
        if count > 1:
            raise PathDenied(
                f"Edit {number}: oldText occurs {count} times in {shown}; include more "
                "surrounding lines so it matches exactly one place."
            )
        result = result.replace(old, new, 1)
    diff = "".join(
        difflib.unified_diff(
            text.replace("\r\n", "\n").splitlines(keepends=True),
            result.replace("\r\n", "\n").splitlines(keepends=True),
            fromfile=f"{shown}\toriginal",
            tofile=f"{shown}\tmodified",
        )
    )
    fence = "```"
    while fence in diff:
        fence += "`"
    return result, f"{fence}diff\n{diff}{fence}\n"


@dataclass(kw_only=True, slots=True, frozen=True)
class Entry:
    """One directory entry, links not followed."""

    name: str
    kind: str
    """'file', 'directory' or 'link' (any other special file counts as 'file')."""
    size: int


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "directory"
    return "link" if stat.S_ISLNK(mode) else "file"


def _scan(fd: int) -> Iterator[Entry]:
    with os.scandir(fd) as entries:
        for entry in entries:
            info = entry.stat(follow_symlinks=False)
            yield Entry(name=entry.name, kind=_kind(info.st_mode), size=info.st_size)


def list_entries(roots: Roots, target: Target, limit: int) -> tuple[list[Entry], bool]:
    """The directory's entries sorted by name, at most `limit`; and whether some were left out."""
    with roots.open_dir(target.root, target.parts) as fd:
        entries: list[Entry] = []
        for entry in _scan(fd):
            if len(entries) >= limit:
                return sorted(entries, key=lambda e: e.name), True
            entries.append(entry)
    return sorted(entries, key=lambda e: e.name), False


def _excluded(relative: str, name: str, patterns: Sequence[str]) -> bool:
    for pattern in patterns:
        if "*" in pattern or "?" in pattern or "[" in pattern:
            bare = pattern.removeprefix("**/")
            if fnmatch.fnmatchcase(relative, pattern) or fnmatch.fnmatchcase(name, bare):
                return True
        elif name == pattern or relative == pattern:
            return True
    return False


@dataclass(slots=True)
class _Budget:
    limit: int
    used: int = 0

    def spend(self) -> None:
        self.used += 1
        if self.used > self.limit:
            raise PathDenied(
                f"More than {self.limit} entries: pick a smaller directory or add excludePatterns."
            )


def _walk(
    fd: int, prefix: str, exclude: Sequence[str], budget: _Budget, depth: int = 0
) -> Iterator[tuple[str, Entry]]:
    """Depth-first (relative path, entry) pairs below `fd`, in name order.

    Subdirectories are opened with `O_NOFOLLOW`, so links are listed but never entered.
    """
    if depth > MAX_DEPTH:
        raise PathDenied(f"More than {MAX_DEPTH} directory levels: start from a deeper path.")
    for entry in sorted(_scan(fd), key=lambda e: e.name):
        relative = f"{prefix}{entry.name}"
        if _excluded(relative, entry.name, exclude):
            continue
        budget.spend()
        yield relative, entry
        if entry.kind != "directory":
            continue
        try:
            child = os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
        except OSError:
            continue  # vanished or swapped for a link: listed, not entered
        try:
            yield from _walk(child, f"{relative}/", exclude, budget, depth + 1)
        finally:
            os.close(child)


def tree(roots: Roots, target: Target, exclude: Sequence[str], limit: int) -> list[object]:
    """Nested `{name, type, children}` dicts, as the reference `directory_tree` returns."""
    top: list[object] = []
    nodes: dict[str, list[object]] = {"": top}
    with roots.open_dir(target.root, target.parts) as fd:
        for relative, entry in _walk(fd, "", exclude, _Budget(limit)):
            parent = relative.rpartition("/")[0]
            node: dict[str, object] = {"name": entry.name, "type": entry.kind}
            if entry.kind == "directory":
                children: list[object] = []
                node["children"] = children
                nodes[relative] = children
            elif entry.kind == "link":
                node["type"] = "file"
            nodes[parent].append(node)
    return top


def search(
    roots: Roots, target: Target, pattern: str, exclude: Sequence[str], limit: int
) -> list[str]:
    """Absolute paths below `target` whose name (or relative path) matches a glob `pattern`."""
    matcher = pattern.removeprefix("**/")
    if not any(c in matcher for c in "*?["):
        matcher = f"*{matcher}*"  # a plain word finds names containing it, as the reference does
    found: list[str] = []
    with roots.open_dir(target.root, target.parts) as fd:
        for relative, entry in _walk(fd, "", exclude, _Budget(limit)):
            subject = relative if "/" in matcher else entry.name
            if fnmatch.fnmatchcase(subject, matcher) or fnmatch.fnmatchcase(relative, pattern):
                found.append(shown(os.path.join(target.shown, relative)))
    return found


def format_size(size: int) -> str:
    """Bytes in the largest unit that keeps the number at least 1, e.g. '1.50 KB'."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{size} B" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover - the loop always returns


def iso_time(seconds: float) -> str:
    """A POSIX timestamp as ISO 8601 in UTC."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")
