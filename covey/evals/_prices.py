"""What tokens cost: a price table per model, loadable from a dict, JSON or YAML."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._errors import UsageError

__all__ = ["ModelPrice", "PriceTable", "model_name_of"]


def model_name_of(label: str) -> str:
    """The model's name in a label; a label of another shape is its own name.

    `qwen3-8b@http://host/v1`, `embedded:qwen3-8b` and `http://host/v1#qwen3-8b` all
    name `qwen3-8b`.
    """
    if "#" in label:
        return label.rsplit("#", 1)[1]
    if label.startswith("embedded:"):
        return label.removeprefix("embedded:")
    found = re.match(r"(.+?)@https?://", label)
    return found.group(1) if found else label


class ModelPrice(BaseModel):
    """Prices of one model, in currency units per million tokens."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: float = Field(ge=0)
    """Price per 1M input (prompt) tokens."""
    output: float = Field(ge=0)
    """Price per 1M output (completion) tokens."""


class PriceTable(BaseModel):
    """Model name (or label) -> price per million input and output tokens.

    A model is looked up by the label a run recorded (`qwen3-8b@http://host/v1`), then by
    the model's name (`qwen3-8b`), so one table serves every endpoint of a model. A model
    missing from the table has no cost: reports show it as unknown rather than zero.

    Example:
        ```python
        prices = PriceTable.from_mapping({"qwen3-8b": {"input": 0.05, "output": 0.25}})
        prices.cost("qwen3-8b@http://localhost:8000/v1", 1_000_000, 200_000)  # 0.1
        ```
    """

    model_config = ConfigDict(frozen=True)

    models: dict[str, ModelPrice] = {}
    """Prices by model label or name."""
    currency: str = "USD"
    """Currency of every price, for display."""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PriceTable:
        """A table from `{model: {"input": x, "output": y}}`.

        The mapping may also be `{"currency": "EUR", "models": {...}}`.

        Raises:
            UsageError: the mapping does not have that shape.
        """
        body: Mapping[str, Any] = data if "models" in data else {"models": data}
        try:
            return cls.model_validate(body)
        except ValidationError as e:
            raise UsageError(
                "A price table maps model names to {input: price per 1M tokens, "
                f"output: price per 1M tokens}}; this one does not: {e.errors()[0]['msg']} "
                f"at {'.'.join(str(p) for p in e.errors()[0]['loc'])}."
            ) from e

    @classmethod
    def from_file(cls, path: str | Path) -> PriceTable:
        """A table from a `.json`, `.yaml` or `.yml` file holding the mapping `from_mapping` takes.

        Raises:
            UsageError: the file is missing, unreadable, or not a price table.
        """
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as e:
            raise UsageError(f"Cannot read the price table {str(file)!r}: {e.strerror}.") from e
        try:
            if file.suffix.lower() in {".yaml", ".yml"}:
                import yaml

                data: Any = yaml.safe_load(text)
            else:
                data = json.loads(text)
        except (ValueError, ImportError) as e:
            raise UsageError(f"The price table {str(file)!r} does not parse: {e}.") from e
        if not isinstance(data, Mapping):
            raise UsageError(
                f"The price table {str(file)!r} must hold a mapping of model names to prices."
            )
        return cls.from_mapping(data)  # pyright: ignore[reportUnknownArgumentType]

    def price(self, model: str, name: str | None = None) -> ModelPrice | None:
        """The price for a model: by its full label, then by its name.

        `name` defaults to the name in the label, as `covey eval` writes labels:
        `name@url`, `embedded:name` (older runs: `url#name`).
        """
        found = self.models.get(model)
        if found is None:
            found = self.models.get(name or model_name_of(model))
        return found

    def cost(
        self, model: str, input_tokens: int, output_tokens: int, *, name: str | None = None
    ) -> float | None:
        """What the tokens cost on `model` (named `name`), or None when it has no price."""
        found = self.price(model, name)
        if found is None:
            return None
        return (input_tokens * found.input + output_tokens * found.output) / 1_000_000
