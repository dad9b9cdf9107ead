"""How every example ends: its own output, or one line saying why it could not finish."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import cast

import anyio

from covey import CoveyError

__all__ = ["run", "reason"]


def reason(error: BaseException) -> CoveyError | None:
    """The covey error behind `error` (through exception groups and causes), if any."""
    if isinstance(error, CoveyError):
        return error
    if isinstance(error, BaseExceptionGroup):
        group = cast(BaseExceptionGroup[BaseException], error)
        for inner in group.exceptions:
            if (found := reason(inner)) is not None:
                return found
    cause = error.__cause__ or error.__context__
    return reason(cause) if cause is not None else None


def run(main: Callable[[], Awaitable[object]]) -> None:
    """Run an example's `main()`; a covey error ends it with one line and exit code 1.

    A small open model often cannot finish a task (no valid answer, too many turns): that is
    an outcome to report, not a crash.
    """
    try:
        anyio.run(main)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        found = reason(exc)
        if found is None:
            raise
        first = str(found).strip().splitlines()[0] if str(found).strip() else repr(found)
        print(f"The example could not finish: {first}", file=sys.stderr)
        sys.exit(1)
