"""Names of a package that load on first use (PEP 562), so importing it stays cheap."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["lazy_names", "lazy_loader"]


def lazy_names(module: str, names: Iterable[str]) -> dict[str, str]:
    """Map each of `names` to the module that defines it."""
    return dict.fromkeys(names, module)


def lazy_loader(
    package: str, lazy: dict[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module `__getattr__` for `package` that imports a name of `lazy` on first use.

    Args:
        package: The package's `__name__`, for the error message.
        lazy: Each lazily loaded name, mapped to the module (absolute) that defines it.
        namespace: The package's `globals()`: a loaded name is kept there, so the next
            lookup is a plain attribute read.
    """

    def load(name: str) -> Any:
        module = lazy.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return load
