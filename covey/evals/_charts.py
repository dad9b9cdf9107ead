"""Inline SVG charts for the HTML report: no scripts, no fonts, no fetches."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from . import _format as fmt
from ._metrics import Proportion

__all__ = ["rate_bars", "histogram", "column_rates"]

COLORS = {"stable pass": "#2e7d32", "flaky": "#f9a825", "stable fail": "#c62828"}
GREY = "#9e9e9e"
AXIS = "#555"


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(label)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="sans-serif" font-size="11">' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{AXIS}"{extra}>'
        f"{escape(text)}</text>"
    )


def _short(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "~"


def rate_bars(rows: Sequence[tuple[str, Proportion | None, str]], *, width: int = 760) -> str:
    """Horizontal bars of success rate per case, with 95% interval whiskers.

    Args:
        rows: (label, rate or None for no data, verdict) per case.
        width: Chart width in pixels.
    """
    left, right, top, step = 190, 20, 24, 18
    plot = width - left - right
    height = top + step * len(rows) + 10
    body: list[str] = []
    for tick in (0, 25, 50, 75, 100):
        x = left + plot * tick / 100
        body.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 10}" stroke="#ddd"/>'
        )
        body.append(_text(x, top - 8, f"{tick}%", "middle"))
    for i, (label, rate, verdict) in enumerate(rows):
        y = top + i * step
        body.append(
            _text(left - 6, y + 12, _short(label, 30), "end", f' data-case="{escape(label)}"')
        )
        if rate is None:
            body.append(_text(left + 4, y + 12, "no data"))
            continue
        color = COLORS.get(verdict, GREY)
        body.append(
            f'<rect x="{left}" y="{y + 3}" width="{plot * rate.rate:.1f}" height="{step - 6}" '
            f'fill="{color}"><title>{escape(label)}: {fmt.percent(rate.rate)} '
            f"({rate.successes}/{rate.total})</title></rect>"
        )
        lo, hi, mid = left + plot * rate.low, left + plot * rate.high, y + step / 2
        body.append(
            f'<path d="M{lo:.1f} {mid:.1f}H{hi:.1f}M{lo:.1f} {mid - 4:.1f}V{mid + 4:.1f}'
            f'M{hi:.1f} {mid - 4:.1f}V{mid + 4:.1f}" stroke="#222" stroke-width="1.2"/>'
        )
    return _svg(width, height, "Success rate per case with 95% intervals", body)


def histogram(values: Sequence[float], *, unit: str = "s", width: int = 760) -> str:
    """A histogram of `values` in equal-width bins (about the square root of the count)."""
    height, left, bottom, top = 200, 40, 30, 14
    plot_w, plot_h = width - left - 20, height - top - bottom
    if not values:
        return _svg(width, 40, "No latency data", [_text(left, 24, "no data")])
    lo, hi = min(values), max(values)
    bins = min(20, max(5, math.ceil(math.sqrt(len(values)))))
    span = (hi - lo) or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(int((v - lo) / span * bins), bins - 1)] += 1
    peak = max(counts)
    base = top + plot_h
    body = [
        f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="{AXIS}"/>',
        _text(left - 4, top + 8, str(peak), "end"),
        _text(left - 4, base, "0", "end"),
        _text(
            12,
            top + plot_h / 2,
            "trials",
            "middle",
            f' transform="rotate(-90 12 {top + plot_h / 2:.1f})"',
        ),
    ]
    bar_w = plot_w / bins
    for i, n in enumerate(counts):
        h = plot_h * n / peak
        start = lo + span * i / bins
        body.append(
            f'<rect x="{left + i * bar_w + 1:.1f}" y="{base - h:.1f}" '
            f'width="{bar_w - 2:.1f}" height="{h:.1f}" fill="#1565c0">'
            f"<title>{fmt.seconds(start)}-{fmt.seconds(start + span / bins)} {unit}: {n} "
            "trials</title></rect>"
        )
    for tick in range(5):  # the bins' edges at 0, 1/4, ... of the span
        x, value = left + plot_w * tick / 4, lo + span * tick / 4
        anchor = "start" if tick == 0 else "end" if tick == 4 else "middle"
        body.append(_text(x, base + 13, fmt.seconds(value), anchor))
    body.append(_text(left + plot_w / 2, height - 3, f"latency per trial ({unit})", "middle"))
    return _svg(width, height, "Histogram of trial latency", body)


def column_rates(rates: Sequence[Proportion | None], *, width: int = 760) -> str:
    """Vertical bars of success rate by trial index, with 95% interval whiskers."""
    height, left, bottom, top = 200, 40, 30, 14
    plot_w, plot_h = width - left - 20, height - top - bottom
    if not rates:
        return _svg(width, 40, "No trials", [_text(left, 24, "no data")])
    slot = plot_w / len(rates)
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        f'stroke="{AXIS}"/>',
        _text(left - 4, top + 8, "100%", "end"),
        _text(left - 4, top + plot_h, "0%", "end"),
    ]
    for i, rate in enumerate(rates):
        x = left + i * slot
        body.append(_text(x + slot / 2, height - 10, f"#{i + 1}", "middle"))
        if rate is None:
            continue
        h = plot_h * rate.rate
        body.append(
            f'<rect x="{x + slot * 0.2:.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{slot * 0.6:.1f}" height="{h:.1f}" fill="#6a1b9a">'
            f"<title>trial #{i + 1}: {fmt.percent(rate.rate)} ({rate.successes}/{rate.total})"
            f"</title></rect>"
        )
        y_lo, y_hi, mid = (
            top + plot_h * (1 - rate.low),
            top + plot_h * (1 - rate.high),
            x + slot / 2,
        )
        body.append(
            f'<path d="M{mid:.1f} {y_lo:.1f}V{y_hi:.1f}M{mid - 4:.1f} {y_lo:.1f}H{mid + 4:.1f}'
            f'M{mid - 4:.1f} {y_hi:.1f}H{mid + 4:.1f}" stroke="#222" stroke-width="1.2"/>'
        )
    return _svg(width, height, "Success rate by trial index with 95% intervals", body)
