"""Summaries of repeated measurements."""

from __future__ import annotations

import statistics
from typing import Iterable


def summarize(values: Iterable[float]) -> dict[str, float | list[float]] | None:
    """Median, min, max and the values themselves; ``None`` for no values."""
    values = list(values)
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "values": values}


def ratio(numerator: dict | None, denominator: dict | None) -> float | None:
    """The ratio of two summaries' medians, if both exist and the denominator is not 0."""
    if not numerator or not denominator or not denominator["median"]:
        return None
    return numerator["median"] / denominator["median"]
