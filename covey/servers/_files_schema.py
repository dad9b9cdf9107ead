"""Argument and result types of the files server's tools, and its error reporting."""

from __future__ import annotations

import os
import stat
from collections.abc import Generator
from contextlib import contextmanager
from typing import Annotated

from pydantic import BaseModel, Field
from typing_extensions import TypedDict  # pydantic needs it for TypedDicts before 3.12

from ._common import ToolError
from ._fileops import iso_time
from ._paths import PathDenied, describe_os_error

__all__ = ["EditOperation", "FileInfo", "PathArg", "Patterns", "file_info", "reported"]

PathArg = Annotated[
    str,
    Field(
        max_length=4096,
        description="Absolute path, or relative to the first allowed directory.",
    ),
]
Patterns = Annotated[
    tuple[Annotated[str, Field(max_length=1000)], ...],
    Field(max_length=100, description="Glob patterns of names or relative paths to skip."),
]


class EditOperation(BaseModel):
    """One exact replacement."""

    oldText: str = Field(description="Text to search for; must match exactly one place.")
    newText: str = Field(description="Text to replace it with.")


class FileInfo(TypedDict):
    """Metadata of a file or directory."""

    size: int
    created: str
    modified: str
    accessed: str
    isDirectory: bool
    isFile: bool
    permissions: str


@contextmanager
def reported(path: str) -> Generator[None]:
    """Turn refusals and OS errors into tool errors naming the path the caller gave."""
    try:
        yield
    except PathDenied as exc:
        raise ToolError(str(exc)) from None
    except OSError as exc:
        raise ToolError(describe_os_error(exc, path)) from None
    except UnicodeDecodeError:
        raise ToolError(f"{path} is not UTF-8 text; only text files can be edited.") from None


def file_info(info: os.stat_result) -> FileInfo:
    """The metadata the reference server reports, from a status."""
    return FileInfo(
        size=info.st_size,
        created=iso_time(getattr(info, "st_birthtime", info.st_ctime)),
        modified=iso_time(info.st_mtime),
        accessed=iso_time(info.st_atime),
        isDirectory=stat.S_ISDIR(info.st_mode),
        isFile=stat.S_ISREG(info.st_mode),
        permissions=oct(info.st_mode & 0o777)[2:],
    )
