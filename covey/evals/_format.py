"""Number formatting shared by the terminal, HTML and comparison reports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from ._metrics import Proportion

__all__ = ["MISSING", "Align", "percent", "interval", "seconds", "count", "money", "score", "table"]

MISSING = "-"


def percent(value: float | None) -> str:
    """`0.7333` -> `73.3%`."""
    return MISSING if value is None else f"{value * 100:.1f}%"


def interval(value: Proportion | None) -> str:
    """The interval's ends in percent without the sign: `49.0-94.3`."""
    if value is None:
        return MISSING
    return f"{value.low * 100:.1f}-{value.high * 100:.1f}"


def seconds(value: float | None) -> str:
    """`1.234` -> `1.23`; long ones lose decimals."""
    if value is None:
        return MISSING
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def count(value: int) -> str:
    """`12345` -> `12,345`."""
    return f"{value:,}"


def money(value: float | None, currency: str | None) -> str:
    """`0.01234, "USD"` -> `0.0123 USD`."""
    if value is None or currency is None:
        return MISSING
    return f"{value:.4f} {currency}" if value < 100 else f"{value:,.2f} {currency}"


def score(value: float | None) -> str:
    """`0.777` -> `0.78`."""
    return MISSING if value is None else f"{value:.2f}"


Align = Literal["<", ">"]


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "~"


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    align: Sequence[Align],
    width: int = 100,
    flexible: int = 0,
) -> list[str]:
    """Lay out an aligned plain-text table no wider than `width`.

    Every column is as wide as its widest cell; if the total is too wide, column
    `flexible` is cut (its cells end in `~`) to fit.
    """
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    over = sum(widths) + 2 * (len(widths) - 1) - width
    if over > 0:
        widths[flexible] = max(widths[flexible] - over, 4)

    def line(cells: Sequence[str]) -> str:
        parts = [f"{_fit(cell, w):{a}{w}}" for cell, w, a in zip(cells, widths, align, strict=True)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return [line(headers), rule, *(line(r) for r in rows)]
