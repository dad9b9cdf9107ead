"""Root confinement for the files server: the security core.

Two layers, both required:

1. **Check.** A path is made absolute (relative paths start at the first root), normalised
   (`..` folded away), and must lie inside a root. Then every symbolic link in it is resolved
   (`os.path.realpath`) and the result must still lie inside a root. Containment compares whole
   path components, so `/data2` is never inside `/data`. This layer gives clear refusals.
2. **Use.** The resolved path is never handed to `open()` as a string. It is opened one
   component at a time from a descriptor of the root that was opened at start-up
   (`openat` with `O_NOFOLLOW`, directories with `O_DIRECTORY`). The resolved path has no
   symbolic links and no `..`, so this walk can only go down into the root's tree; a link
   swapped in after the check makes the walk fail (`ELOOP`/`ENOTDIR`) instead of escaping.
   Writes go to a fresh temporary file in the same directory (`O_EXCL`) and are renamed over
   the target, which replaces a link rather than following it.

Out of scope: hard links to outside files that already exist inside a root, and mount points
inside a root, are part of the tree as the operator set it up.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["PathDenied", "Root", "Roots", "Target", "describe_os_error"]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK  # no hang on FIFOs
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class PathDenied(Exception):
    """A path is outside the roots, malformed, or changed under us; the message says which."""


@dataclass(kw_only=True, slots=True, frozen=True)
class Root:
    """One allowed directory."""

    given: str
    """The directory as configured, made absolute and normalised."""
    real: str
    """The directory with every symbolic link resolved."""
    fd: int
    """A descriptor of the directory, opened at start-up; every walk starts here."""


@dataclass(kw_only=True, slots=True, frozen=True)
class Target:
    """A checked path: a root and the real components below it."""

    root: Root
    parts: tuple[str, ...]
    """Components below the root; empty for the root itself. No `..`, no links at check time."""

    @property
    def shown(self) -> str:
        """The real absolute path, for messages and results."""
        return os.path.join(self.root.real, *self.parts)

    @property
    def name(self) -> str:
        """The last component (the root's own name for the root)."""
        return self.parts[-1] if self.parts else os.path.basename(self.root.real)


def _within(path: str, directory: str) -> bool:
    # Compare whole components: "/data2/x" must not count as inside "/data".
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def _validate(path: str) -> None:
    if not path:
        raise PathDenied("The path is empty: pass a file or directory path.")
    if "\x00" in path:
        raise PathDenied("The path contains a NUL character, which no file name can hold.")
    try:
        os.fsencode(path)
    except UnicodeError:
        raise PathDenied("The path contains characters that cannot be file names.") from None


class Roots:
    """The allowed directories, and the only way the files server touches the file system."""

    def __init__(self, directories: Sequence[str]) -> None:
        """Open each directory; they must exist.

        Raises:
            ValueError: No directories, or one is missing or not a directory.
        """
        if not directories:
            raise ValueError("no root directory: pass --root DIR at least once")
        roots: list[Root] = []
        for directory in directories:
            given = os.path.abspath(directory)
            real = os.path.realpath(given)
            try:
                fd = os.open(real, _DIR_FLAGS)
            except OSError as exc:
                raise ValueError(f"--root {directory!r}: {exc.strerror or exc}") from None
            if any(root.real == real for root in roots):
                os.close(fd)
                continue
            roots.append(Root(given=given, real=real, fd=fd))
        self.roots: tuple[Root, ...] = tuple(roots)

    def close(self) -> None:
        """Close the root descriptors (tests; a server keeps them for its life)."""
        for root in self.roots:
            os.close(root.fd)

    def check(self, path: str, *, follow_last: bool = True) -> Target:
        """Resolve `path` and confirm it stays inside a root.

        Args:
            path: Absolute, or relative to the first root.
            follow_last: Resolve a link in the last component too. Off for names that are
                replaced or moved rather than read through (the link itself is the object).

        Raises:
            PathDenied: Malformed, outside every root, or led outside by a symbolic link.
        """
        _validate(path)
        lexical = os.path.normpath(os.path.join(self.roots[0].given, path))
        if not any(_within(lexical, r.given) or _within(lexical, r.real) for r in self.roots):
            raise PathDenied(
                f"Access denied: {path!r} is outside the allowed directories "
                f"({', '.join(r.real for r in self.roots)}). Use a path inside one of them."
            )
        if follow_last:
            real = os.path.realpath(lexical)
        else:
            head, tail = os.path.split(lexical)
            real = os.path.join(os.path.realpath(head), tail) if tail else os.path.realpath(head)
        inside = [r for r in self.roots if _within(real, r.real)]
        if not inside:
            raise PathDenied(
                f"Access denied: {path!r} leads through a symbolic link to a place outside "
                "the allowed directories."
            )
        root = max(inside, key=lambda r: len(r.real))  # the innermost root, if roots nest
        rest = os.path.relpath(real, root.real)
        parts = () if rest == os.curdir else tuple(rest.split(os.sep))
        return Target(root=root, parts=parts)

    @contextmanager
    def open_dir(self, root: Root, parts: Sequence[str], *, create: bool = False) -> Generator[int]:
        """A descriptor of the directory at `parts` below `root`, walked without following links.

        Args:
            root: Where the walk starts.
            parts: Components to descend through.
            create: Make missing directories on the way (`mkdir -p`).
        """
        fd = os.open(os.curdir, _DIR_FLAGS, dir_fd=root.fd)
        try:
            for part in parts:
                try:
                    child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise
                    try:
                        os.mkdir(part, 0o777, dir_fd=fd)
                    except FileExistsError:
                        pass  # made by someone else meanwhile; the open below checks what it is
                    child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = child
            yield fd
        finally:
            os.close(fd)

    @contextmanager
    def open_parent(self, target: Target) -> Generator[tuple[int, str]]:
        """The descriptor of the directory holding `target`, and the target's name in it."""
        if not target.parts:
            raise PathDenied(f"{target.shown} is an allowed root directory; name something in it.")
        with self.open_dir(target.root, target.parts[:-1]) as fd:
            yield fd, target.parts[-1]

    def open_read(self, target: Target) -> int:
        """Open a regular file for reading, refusing links, directories, FIFOs and devices."""
        if not target.parts:
            raise IsADirectoryError(errno.EISDIR, "Is a directory")
        with self.open_parent(target) as (dir_fd, name):
            fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            kind = "a directory" if stat.S_ISDIR(os.fstat(fd).st_mode) else "not a regular file"
            os.close(fd)
            raise PathDenied(f"{target.shown} is {kind}; only regular files can be read.")
        os.set_blocking(fd, True)
        return fd

    def stat(self, target: Target) -> os.stat_result:
        """Status of the target itself (a link is reported as a link, never followed)."""
        if not target.parts:
            return os.stat(target.root.fd)
        with self.open_parent(target) as (dir_fd, name):
            return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)

    def write_atomic(self, target: Target, data: bytes) -> bool:
        """Replace or create the file at `target` with `data`, atomically.

        The data goes to a new temporary file (`O_EXCL`, so nothing planted is reused), is
        flushed, and renamed over the name. The old file's permissions are kept.

        Returns:
            True if a file was replaced, False if one was created.
        """
        with self.open_parent(target) as (dir_fd, name):
            try:
                old = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                old = None
            if old is not None and not stat.S_ISREG(old.st_mode):
                kind = "a directory" if stat.S_ISDIR(old.st_mode) else "not a regular file"
                raise PathDenied(f"{target.shown} is {kind}; only regular files can be written.")
            temp = f".covey-{secrets.token_hex(8)}.tmp"
            fd = os.open(temp, _NEW_FILE_FLAGS, 0o666, dir_fd=dir_fd)
            try:
                with os.fdopen(fd, "wb", closefd=True) as file:
                    file.write(data)
                    file.flush()
                    if old is not None:
                        os.fchmod(file.fileno(), stat.S_IMODE(old.st_mode))
                    os.fsync(file.fileno())
                os.rename(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            except BaseException:
                try:
                    os.unlink(temp, dir_fd=dir_fd)
                except OSError:
                    pass
                raise
            return old is not None

    def move(self, source: Target, destination: Target) -> None:
        """Rename `source` to `destination`; the destination must not exist.

        A file (or link) is hard-linked at the destination, which fails if anything is there,
        then unlinked at the source, so a file that appears at the destination meanwhile is
        never replaced. A directory, or a file system without hard links, is checked and then
        renamed.
        """
        with (
            self.open_parent(source) as (src_dir, src_name),
            self.open_parent(destination) as (dst_dir, dst_name),
        ):
            if _link_then_unlink(src_dir, src_name, dst_dir, dst_name):
                return
            try:
                os.stat(dst_name, dir_fd=dst_dir, follow_symlinks=False)
            except FileNotFoundError:
                pass
            else:
                raise FileExistsError(errno.EEXIST, "Destination already exists")
            os.rename(src_name, dst_name, src_dir_fd=src_dir, dst_dir_fd=dst_dir)


_NO_HARD_LINK = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS})
"""What `link` says for a directory, a file system without hard links, or a link limit."""


def _link_then_unlink(src_dir: int, src_name: str, dst_dir: int, dst_name: str) -> bool:
    """Move by hard link and unlink; False when the source cannot be hard-linked."""
    try:
        os.link(src_name, dst_name, src_dir_fd=src_dir, dst_dir_fd=dst_dir, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in _NO_HARD_LINK:
            return False
        raise
    try:
        os.unlink(src_name, dir_fd=src_dir)
    except OSError:
        os.unlink(dst_name, dir_fd=dst_dir)  # leave things as they were
        raise
    return True


_ERRNO_HINTS = {
    errno.ENOENT: "No such file or directory",
    errno.EEXIST: "Already exists",
    errno.EISDIR: "Is a directory (use list_directory or directory_tree)",
    errno.ENOTDIR: "Not a directory (the path or one of its parents)",
    errno.ELOOP: "Access denied: a symbolic link appeared in the path after it was checked",
    errno.EACCES: "Permission denied by the operating system",
    errno.EPERM: "Operation not permitted by the operating system",
    errno.ENAMETOOLONG: "A file name in the path is too long",
    errno.ENOSPC: "No space left on the device",
    errno.EXDEV: "Cannot move between file systems; copy the content instead",
    errno.EINVAL: "Invalid operation (moving a directory into itself?)",
    errno.ENOTEMPTY: "Directory not empty",
}


def describe_os_error(exc: OSError, shown: str) -> str:
    """One line for the model: what failed on which path."""
    reason = _ERRNO_HINTS.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    return f"{reason}: {shown}"
