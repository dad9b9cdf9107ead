"""The files MCP server: read, write, edit, list, search and move files inside allowed roots.

Tool names and arguments match the reference filesystem server
(modelcontextprotocol/servers), so prompts written for it work here. Every path goes through
`Roots` (see `_paths`): checked after resolving links, then opened without following any.

    python -m covey.servers.files --root ./data [--root ...] [--read-only] [--http HOST:PORT]
"""

from __future__ import annotations

import argparse
import base64
import json
import mimetypes
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from mcp_types import (
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    EmbeddedResource,
    ImageContent,
)
from pydantic import Field

from ._common import (
    BundledServer,
    SetupError,
    TextResult,
    ToolError,
    add_transport_arguments,
    bad_argument,
    hints,
    run_main,
    structured_result,
    text_result,
)
from ._fileops import (
    DEFAULT_MAX_BYTES,
    Edit,
    Limits,
    apply_edits,
    creatable,
    format_size,
    list_entries,
    read_bytes,
    read_lines,
    search,
    shown,
    tree,
)
from ._files_schema import (
    EditOperation,
    FileInfo,
    PathArg,
    Patterns,
    file_info,
    reported,
)
from ._paths import Roots

__all__ = ["FileInfo", "FilesTools", "build_server", "main"]


class FilesTools:
    """The tools, bound to one set of roots and limits."""

    def __init__(self, roots: Roots, limits: Limits) -> None:
        """Serve `roots` within `limits`."""
        self.roots = roots
        self.limits = limits

    def read_text_file(
        self,
        path: PathArg,
        head: Annotated[int | None, Field(ge=0, description="Only the first N lines.")] = None,
        tail: Annotated[int | None, Field(ge=0, description="Only the last N lines.")] = None,
    ) -> TextResult:
        """Read a file as UTF-8 text, whole or only its first (head) or last (tail) N lines.

        Bytes that are not UTF-8 are replaced. Only works within allowed directories.
        """
        if head is not None and tail is not None:
            raise bad_argument("head", "head and tail were both given", "Pass only one of them.")
        with reported(path):
            target = self.roots.check(path)
            if head is None and tail is None:
                data = read_bytes(self.roots, target, self.limits.max_read_bytes)
                return text_result(data.decode("utf-8", errors="replace"))
            limit = self.limits.max_read_bytes
            return text_result(read_lines(self.roots, target, head=head, tail=tail, limit=limit))

    def read_media_file(self, path: PathArg) -> ImageContent | AudioContent | EmbeddedResource:
        """Read an image or audio file as base64 data with its MIME type.

        Other binary files come back as an embedded resource. Only works within allowed
        directories.
        """
        with reported(path):
            target = self.roots.check(path)
            data = read_bytes(self.roots, target, self.limits.max_read_bytes)
        encoded = base64.b64encode(data).decode()
        mime = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if mime.startswith("image/"):
            return ImageContent(data=encoded, mime_type=mime)
        if mime.startswith("audio/"):
            return AudioContent(data=encoded, mime_type=mime)
        uri = Path(target.shown).as_uri()
        return EmbeddedResource(
            resource=BlobResourceContents(uri=uri, blob=encoded, mime_type=mime)
        )

    def read_multiple_files(
        self,
        paths: Annotated[list[PathArg], Field(min_length=1, max_length=100)],
    ) -> TextResult:
        """Read several text files at once; each comes back under its path.

        A file that cannot be read shows its error and does not stop the others. Only works
        within allowed directories.
        """
        budget = self.limits.max_read_bytes
        parts: list[str] = []
        for path in paths:
            if budget <= 0:
                parts.append(f"{path}: Skipped - the combined read limit is reached")
                continue
            try:
                with reported(path):
                    data = read_bytes(self.roots, self.roots.check(path), budget)
                budget -= len(data)
                parts.append(f"{path}:\n{data.decode('utf-8', errors='replace')}\n")
            except ToolError as exc:
                parts.append(f"{path}: Error - {exc}")
        return text_result("\n---\n".join(parts))

    def write_file(self, path: PathArg, content: str) -> TextResult:
        """Create a file or overwrite an existing one with new content (UTF-8).

        The file is replaced atomically: readers see the old or the new content, never a mix.
        The parent directory must exist. Only works within allowed directories.
        """
        data = _encode(content, "content")
        self._check_write_size(len(data))
        with reported(path):
            replaced = self.roots.write_atomic(creatable(self.roots.check(path)), data)
        verb = "overwrote" if replaced else "created"
        return text_result(f"Successfully {verb} {path} ({format_size(len(data))}).")

    def edit_file(
        self,
        path: PathArg,
        edits: Annotated[list[EditOperation], Field(min_length=1, max_length=100)],
        dryRun: Annotated[
            bool, Field(description="Preview the diff without changing the file.")
        ] = False,
    ) -> TextResult:
        """Replace exact text in a file; returns a git-style diff of the change.

        Each edit's oldText must match exactly one place in the file (as changed by the edits
        before it). Use dryRun to preview. Only works within allowed directories.
        """
        with reported(path):
            target = self.roots.check(path)
            text = read_bytes(self.roots, target, self.limits.max_read_bytes).decode("utf-8")
            changes = [Edit(old=e.oldText, new=e.newText) for e in edits]
            result, diff = apply_edits(text, changes, path)
            data = _encode(result, "edits")
            self._check_write_size(len(data))
            if not dryRun:
                self.roots.write_atomic(target, data)
        return text_result(diff)

    def create_directory(self, path: PathArg) -> TextResult:
        """Create a directory, with any missing parents; succeeds if it already exists.

        Only works within allowed directories.
        """
        with reported(path):
            target = creatable(self.roots.check(path))
            with self.roots.open_dir(target.root, target.parts, create=True):
                pass
        return text_result(f"Successfully created directory {path}")

    def list_directory(self, path: PathArg) -> TextResult:
        """List a directory's entries, each marked [DIR], [FILE] or [LINK] (symbolic link).

        Only works within allowed directories.
        """
        with reported(path):
            entries, more = list_entries(
                self.roots, self.roots.check(path), self.limits.max_entries
            )
        lines = [f"[{_MARK[e.kind]}] {shown(e.name)}" for e in entries]
        if more:
            lines.append(f"... (stopped after {self.limits.max_entries} entries)")
        return text_result("\n".join(lines) if lines else "(empty directory)")

    def list_directory_with_sizes(
        self,
        path: PathArg,
        sortBy: Annotated[
            Literal["name", "size"], Field(description="Sort by name or by size (largest first).")
        ] = "name",
    ) -> TextResult:
        """List a directory's entries with [DIR]/[FILE]/[LINK] marks and file sizes, plus totals.

        Only works within allowed directories.
        """
        with reported(path):
            entries, more = list_entries(
                self.roots, self.roots.check(path), self.limits.max_entries
            )
        if sortBy == "size":
            entries.sort(key=lambda e: (-e.size if e.kind == "file" else 0, e.name))
        lines = [
            f"[{_MARK[e.kind]}] {shown(e.name):<30} "
            f"{format_size(e.size) if e.kind == 'file' else ''}"
            for e in entries
        ]
        files = [e for e in entries if e.kind == "file"]
        folders = sum(e.kind == "directory" for e in entries)
        lines += [
            *([f"... (stopped after {self.limits.max_entries} entries)"] if more else []),
            "",
            f"Total: {len(files)} files, {folders} directories",
            f"Combined size: {format_size(sum(e.size for e in files))}",
        ]
        return text_result("\n".join(line.rstrip() for line in lines))

    def directory_tree(self, path: PathArg, excludePatterns: Patterns = ()) -> TextResult:
        """Get the recursive tree below a directory as JSON: [{name, type, children}].

        type is 'file' or 'directory'; only directories have children. Symbolic links are
        shown as files and not entered. Only works within allowed directories.
        """
        with reported(path):
            nodes = tree(
                self.roots, self.roots.check(path), excludePatterns, self.limits.max_entries
            )
        return text_result(json.dumps(nodes, indent=2, ensure_ascii=False))

    def move_file(self, source: PathArg, destination: PathArg) -> TextResult:
        """Move or rename a file or directory. Fails if the destination exists.

        Both paths must be within allowed directories.
        """
        with reported(source):
            self.roots.check(source)  # what the name leads to must be inside, too
            origin = self.roots.check(source, follow_last=False)
        with reported(destination):
            target = creatable(self.roots.check(destination, follow_last=False))
            self.roots.move(origin, target)
        return text_result(f"Successfully moved {source} to {destination}")

    def search_files(
        self,
        path: PathArg,
        pattern: Annotated[
            str,
            Field(
                min_length=1,
                max_length=1000,
                description="Glob such as '*.py' or 'docs/*.md'; a plain word matches names "
                "containing it.",
            ),
        ],
        excludePatterns: Patterns = (),
    ) -> TextResult:
        """Recursively find files and directories whose names match a glob pattern.

        Returns full paths, one a line. Only works within allowed directories.
        """
        with reported(path):
            target = self.roots.check(path)
            found = search(self.roots, target, pattern, excludePatterns, self.limits.max_entries)
        return text_result("\n".join(found) if found else "No matches found")

    def get_file_info(self, path: PathArg) -> Annotated[CallToolResult, FileInfo]:
        """Get a file's or directory's size, times, type and permissions.

        Only works within allowed directories.
        """
        with reported(path):
            info = self.roots.stat(self.roots.check(path))
        data = file_info(info)
        return structured_result("\n".join(f"{k}: {v}" for k, v in data.items()), data)

    def list_allowed_directories(self) -> TextResult:
        """List the directories this server may use; relative paths start at the first."""
        lines = [root.real for root in self.roots.roots]
        return text_result("Allowed directories:\n" + "\n".join(lines))

    def _check_write_size(self, size: int) -> None:
        if size > self.limits.max_write_bytes:
            raise bad_argument(
                "content",
                f"{format_size(size)} is over the {format_size(self.limits.max_write_bytes)} limit",
                "Write smaller files, or start the server with a larger --max-write-bytes.",
            )


_MARK = {"file": "FILE", "directory": "DIR", "link": "LINK"}


def _encode(text: str, argument: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise bad_argument(
            argument, "it holds unpaired surrogate characters", "Send valid Unicode text."
        ) from None


def build_server(
    roots: Sequence[str], *, read_only: bool = False, limits: Limits | None = None
) -> BundledServer:
    """The files server for `roots`; with `read_only`, the tools that change files are left out.

    Raises:
        SetupError: No roots, or one is not an existing directory.
    """
    try:
        confined = Roots(roots)
    except ValueError as exc:
        raise SetupError(str(exc)) from None
    tools = FilesTools(confined, limits or Limits())
    listing = ", ".join(root.real for root in confined.roots)
    server = BundledServer(
        "covey-files",
        instructions=f"Files inside {listing}. Relative paths start at {confined.roots[0].real}.",
    )
    readers: list[Callable[..., Any]] = [
        tools.read_text_file,
        tools.read_media_file,
        tools.read_multiple_files,
        tools.list_directory,
        tools.list_directory_with_sizes,
        tools.directory_tree,
        tools.search_files,
        tools.get_file_info,
        tools.list_allowed_directories,
    ]
    for reader in readers:
        server.add_tool(reader, annotations=hints(read_only=True))
    if not read_only:
        server.add_tool(tools.create_directory, annotations=hints(read_only=False, idempotent=True))
        server.add_tool(
            tools.write_file, annotations=hints(read_only=False, destructive=True, idempotent=True)
        )
        server.add_tool(tools.edit_file, annotations=hints(read_only=False, destructive=True))
        server.add_tool(tools.move_file, annotations=hints(read_only=False, destructive=True))
    return server


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="covey serve files", description="MCP server for files inside allowed directories."
    )
    parser.add_argument(
        "--root", action="append", default=[], metavar="DIR", help="allowed directory (repeatable)"
    )
    parser.add_argument("--read-only", action="store_true", help="offer no tool that changes files")
    parser.add_argument(
        "--max-read-bytes", type=int, default=DEFAULT_MAX_BYTES, help="largest file read whole"
    )
    parser.add_argument(
        "--max-write-bytes", type=int, default=DEFAULT_MAX_BYTES, help="largest file written"
    )
    add_transport_arguments(parser)
    return parser


def _build(args: argparse.Namespace) -> BundledServer:
    if args.max_read_bytes < 1 or args.max_write_bytes < 1:
        raise SetupError("--max-read-bytes and --max-write-bytes must be at least 1")
    limits = Limits(max_read_bytes=args.max_read_bytes, max_write_bytes=args.max_write_bytes)
    return build_server(args.root, read_only=args.read_only, limits=limits)


def main(argv: list[str] | None = None) -> int:
    """Run the files server: `covey serve files --root DIR [...]`."""
    return run_main(_build, _parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
