"""Root confinement (`covey.servers._paths`): every escape refused, swaps caught at use."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from covey.servers._paths import PathDenied, Roots, describe_os_error

from .conftest import SECRET, World


@pytest.fixture
def roots(world: World) -> Iterator[Roots]:
    confined = Roots([str(world.root)])
    yield confined
    confined.close()


ESCAPES = [
    "../outside/secret.txt",
    "sub/../../outside/secret.txt",
    "{outside}/secret.txt",
    "{root}/../outside/secret.txt",
    "{root}2/secret.txt",  # sibling prefix: /x/root2 is not inside /x/root
    "link_out/secret.txt",
    "link_out",
    "link_file_out",
    "link_sibling/secret.txt",
    "/",
    "//etc/passwd",
    "/etc/passwd",
    "..",
    "a.txt/../../outside",
]


@pytest.mark.parametrize("template", ESCAPES)
def test_every_escape_is_refused(roots: Roots, world: World, template: str) -> None:
    path = template.format(root=world.root, outside=world.outside)
    with pytest.raises(PathDenied, match="Access denied"):
        roots.check(path)


@pytest.mark.parametrize("path", ["", "a\x00b", "\udcff\ud800"])
def test_malformed_paths_are_refused(roots: Roots, path: str) -> None:
    with pytest.raises(PathDenied):
        roots.check(path)


def test_paths_inside_resolve_to_real_components(roots: Roots, world: World) -> None:
    assert roots.check("a.txt").parts == ("a.txt",)
    assert roots.check(f"{world.root}/sub/b.txt").parts == ("sub", "b.txt")
    assert roots.check("sub/../a.txt").parts == ("a.txt",)
    assert roots.check("link_in").parts == ("a.txt",)  # a link inside the root is followed
    assert roots.check("link_in", follow_last=False).parts == ("link_in",)
    assert roots.check(".").parts == ()
    assert roots.check("new/dir/file.txt").parts == ("new", "dir", "file.txt")


def test_a_link_to_outside_is_refused_even_as_a_write_target(roots: Roots, world: World) -> None:
    with pytest.raises(PathDenied, match="symbolic link"):
        roots.check("link_file_out")
    dangling = world.root / "dangling"
    os.symlink(world.outside / "new.txt", dangling)
    with pytest.raises(PathDenied, match="symbolic link"):
        roots.check("dangling")
    assert not (world.outside / "new.txt").exists()


def test_a_directory_swapped_for_a_link_after_the_check_is_not_followed(
    roots: Roots, world: World
) -> None:
    target = roots.check("sub/b.txt")
    before = world.snapshot()
    (world.root / "sub").rename(world.root / "sub_moved")
    os.symlink(world.outside, world.root / "sub")
    (world.outside / "b.txt").write_text(SECRET)
    before = world.snapshot()
    with pytest.raises(OSError) as raised:
        roots.open_read(target)
    assert raised.value.errno in (errno.ELOOP, errno.ENOTDIR)
    with pytest.raises(OSError):
        roots.write_atomic(target, b"pwned")
    assert world.snapshot() == before


def test_a_file_swapped_for_a_link_after_the_check_is_not_followed(
    roots: Roots, world: World
) -> None:
    target = roots.check("sub/b.txt")
    (world.root / "sub" / "b.txt").unlink()
    os.symlink(world.outside / "secret.txt", world.root / "sub" / "b.txt")
    before = world.snapshot()
    with pytest.raises(OSError) as raised:
        roots.open_read(target)
    assert raised.value.errno == errno.ELOOP
    with pytest.raises(PathDenied, match="not a regular file"):
        roots.write_atomic(target, b"pwned")
    assert world.snapshot() == before
    assert (world.outside / "secret.txt").read_text() == SECRET


def test_writes_replace_atomically_and_keep_permissions(roots: Roots, world: World) -> None:
    path = world.root / "a.txt"
    path.chmod(0o600)
    inode = path.stat().st_ino
    assert roots.write_atomic(roots.check("a.txt"), b"new content") is True
    assert path.read_bytes() == b"new content"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.stat().st_ino != inode  # a new file renamed over the old one
    assert roots.write_atomic(roots.check("fresh.txt"), b"x") is False
    assert sorted(p.name for p in world.root.iterdir() if p.name.startswith(".")) == []


def test_reads_refuse_directories_and_special_files(roots: Roots, world: World) -> None:
    os.mkfifo(world.root / "fifo")
    with pytest.raises(PathDenied, match="not a regular file"):
        roots.open_read(roots.check("fifo"))  # O_NONBLOCK: refused, not hung
    with pytest.raises(PathDenied, match="a directory"):
        roots.open_read(roots.check("sub"))
    with pytest.raises(IsADirectoryError):
        roots.open_read(roots.check("."))
    with pytest.raises(OSError):
        roots.open_read(roots.check("loop"))


def test_moves_never_replace_and_never_leave_the_roots(roots: Roots, world: World) -> None:
    with pytest.raises(FileExistsError):
        roots.move(roots.check("a.txt"), roots.check("sub/b.txt", follow_last=False))
    roots.move(roots.check("a.txt", follow_last=False), roots.check("sub/a.txt", follow_last=False))
    assert (world.root / "sub" / "a.txt").read_text().startswith("alpha")
    with pytest.raises(PathDenied, match="allowed root"):
        roots.move(roots.check("."), roots.check("elsewhere"))


def _move(roots: Roots, source: str, destination: str) -> None:
    roots.move(roots.check(source, follow_last=False), roots.check(destination, follow_last=False))


def test_a_move_takes_the_file_itself_and_never_replaces_a_link(roots: Roots, world: World) -> None:
    inode = (world.root / "a.txt").stat().st_ino
    _move(roots, "a.txt", "moved.txt")
    assert (world.root / "moved.txt").stat().st_ino == inode
    assert not (world.root / "a.txt").exists()
    _move(roots, "link_in", "sub/link")
    assert os.readlink(world.root / "sub" / "link") == "a.txt"  # the link moved, as a link
    os.symlink("nowhere", world.root / "dangling")
    with pytest.raises(FileExistsError):
        roots.move(roots.check("moved.txt"), roots.check("dangling", follow_last=False))
    assert os.readlink(world.root / "dangling") == "nowhere"
    _move(roots, "sub", "dir")
    assert (world.root / "dir" / "b.txt").read_text() == "bee\n"  # directories move too


def _move_as(uid: int, roots: Roots) -> str:
    """Move locked/f.txt to f.txt as user `uid` (in a forked child); how it ended."""
    pid = os.fork()
    if pid == 0:  # the child: drop privileges, try the move, report through the exit code
        code = 3
        try:
            if os.geteuid() != uid:
                os.setgid(uid)
                os.setuid(uid)
            try:
                _move(roots, "locked/f.txt", "f.txt")
                code = 0
            except PermissionError:
                code = 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return {0: "moved", 1: "refused"}.get(os.waitstatus_to_exitcode(status), "crashed")


def test_a_move_that_cannot_remove_the_source_leaves_no_copy(tmp_path: Path) -> None:
    # Root may unlink from a read-only directory, so as root the move runs as nobody.
    user = 65534 if os.geteuid() == 0 else os.geteuid()
    root = tmp_path / "root"
    (root / "locked").mkdir(parents=True)
    (root / "locked" / "f.txt").write_text("stay")
    for path in (root, root / "locked", root / "locked" / "f.txt"):
        os.chown(path, user, user)
    (root / "locked").chmod(0o555)
    roots = Roots([str(root)])  # opened here: the user may not reach tmp_path by name
    try:
        outcome = _move_as(user, roots)
    finally:
        roots.close()
        (root / "locked").chmod(0o755)
    assert outcome == "refused"
    assert (root / "locked" / "f.txt").read_text() == "stay"
    assert not (root / "f.txt").exists()


def test_a_file_appearing_at_the_destination_is_never_replaced(roots: Roots, world: World) -> None:
    # Another writer keeps creating 'b' (atomically, only if absent) while moves to 'b' run:
    # every file it created must be found afterwards, none silently replaced by a move.
    stop = threading.Event()
    created: list[str] = []

    def create() -> None:
        while not stop.is_set():
            name = f"theirs-{len(created)}"
            (world.root / name).write_text(name)
            with contextlib.suppress(FileExistsError):
                os.link(world.root / name, world.root / "b")
                created.append(name)
            os.unlink(world.root / name)

    contender = threading.Thread(target=create)
    contender.start()
    found: set[str] = set()
    try:
        for _ in range(3000):
            (world.root / "a").write_text("mine")
            try:
                _move(roots, "a", "b")
            except FileExistsError:
                os.unlink(world.root / "a")
            with contextlib.suppress(FileNotFoundError):
                found.add((world.root / "b").read_text())
                os.unlink(world.root / "b")  # nothing else can change 'b' while it exists
    finally:
        stop.set()
        contender.join(30)
    with contextlib.suppress(FileNotFoundError):
        found.add((world.root / "b").read_text())
    assert created, "the contender never created the destination; nothing was tested"
    assert set(created) <= found


def test_several_roots_and_relative_paths_start_at_the_first(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    (second / "f.txt").write_text("two")
    both = Roots([str(first), str(second), str(first)])
    try:
        assert len(both.roots) == 2  # duplicates collapse
        assert both.check("x").root.real == str(first)
        assert both.check(str(second / "f.txt")).root.real == str(second)
    finally:
        both.close()


def test_missing_roots_are_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--root"):
        Roots([str(tmp_path / "missing")])
    with pytest.raises(ValueError, match="no root"):
        Roots([])
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="--root"):
        Roots([str(tmp_path / "file")])


def test_os_errors_are_described_for_the_model() -> None:
    error = FileNotFoundError(errno.ENOENT, "No such file or directory")
    assert describe_os_error(error, "x.txt") == "No such file or directory: x.txt"
    assert "symbolic link" in describe_os_error(OSError(errno.ELOOP, "loop"), "y")
