"""Number formatting shared by the console tables and the Markdown table."""

from __future__ import annotations

from typing import Any, Callable


def number(value: float | None) -> str:
    """Three significant figures, thousands separated: 0.0123, 4.56, 78.9, 1,234."""
    if value is None:
        return "–"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def count(value: float | None) -> str:
    """A row count: an integer with thousands separators (a median may end in .5)."""
    if value is None:
        return "–"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def spread(summary: dict[str, Any] | None, show: Callable[[float | None], str] = number) -> str:
    """``median (min–max)``, or just the median when every value is the same."""
    if not summary:
        return "–"
    low, high = show(summary["min"]), show(summary["max"])
    if low == high:
        return show(summary["median"])
    return f"{show(summary['median'])} ({low}–{high})"


def ratio(value: float | None) -> str:
    """A Partita/Prefect ratio, with its inverse when below 1 (``0.05 (1/20)``)."""
    if value is None:
        return "–"
    if 0 < value < 1:
        return f"{number(value)} (1/{number(1 / value)})"
    return number(value)


def goal(value: float | None, target: float | None) -> str:
    """``≤ 1/100 ✓`` / ``≤ 1.15 ✗``, or empty when the metric has no ratio goal."""
    if target is None:
        return ""
    label = f"≤ 1/{round(1 / target)}" if target < 1 else f"≤ {number(target)}"
    if value is None:
        return label
    return f"{label} {'✓' if value <= target else '✗'}"


def limit(value: float | None, bound: float | None, unit: str) -> str:
    """``≤ 300 ms ✓`` for an absolute bound on Partita's median, or empty when there is none."""
    if bound is None:
        return ""
    label = f"≤ {number(bound)} {unit}"
    if value is None:
        return label
    return f"{label} {'✓' if value <= bound else '✗'}"
