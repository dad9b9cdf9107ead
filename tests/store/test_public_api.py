"""`covey.store.__all__` lists exactly its public names, and they all import."""

from __future__ import annotations

import covey.store


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name, value in vars(covey.store).items()
        if not name.startswith("_") and not isinstance(value, type(covey.store))
    }
    assert set(covey.store.__all__) == public
    assert len(covey.store.__all__) == len(set(covey.store.__all__))
