"""Errors of the store: all derive from `StoreError`, itself a `CoveyError`."""

from __future__ import annotations

from .._errors import CoveyError

__all__ = ["StoreError", "CheckpointConflict", "CheckpointNotFound"]


class StoreError(CoveyError):
    """The database failed or cannot be used.

    For example: unreachable, locked past the timeout, a schema newer than this covey, or a
    missing driver.
    """


class CheckpointConflict(StoreError):
    """Another writer already committed this step of the thread (or the thread exists).

    Usually two workers resumed the same thread; the one that gets this error should stop and
    reload the thread with `CheckpointStore.latest()`.
    """

    def __init__(self, message: str, *, thread_id: str, step: int | None = None) -> None:
        super().__init__(message)
        self.thread_id = thread_id
        self.step = step


class CheckpointNotFound(StoreError, LookupError):
    """No checkpoint has the given id (it never existed, was pruned, or its thread deleted)."""

    def __init__(self, message: str, *, checkpoint_id: str) -> None:
        super().__init__(message)
        self.checkpoint_id = checkpoint_id
