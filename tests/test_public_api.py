"""Each package's `__all__` lists exactly its public names, and they all import."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = [
    "covey",
    "covey.models",
    "covey.tools",
    "covey.agents",
    "covey.store",
    "covey.evals",
    "covey.rating",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_lists_exactly_the_public_names(name: str) -> None:
    module = importlib.import_module(name)
    public = {
        n
        for n, value in vars(module).items()
        if not n.startswith("_")
        and not (isinstance(value, type(module)))  # submodules are not API
        and n != "annotations"
    }
    public |= set(getattr(module, "_LAZY", {}))  # names loaded on first use
    assert set(module.__all__) - {"__version__"} == public
    for exported in module.__all__:
        assert getattr(module, exported) is not None
    assert len(module.__all__) == len(set(module.__all__))
    assert set(module.__all__) <= set(dir(module))  # names loaded on first use are listed too
