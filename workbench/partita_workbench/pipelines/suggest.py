""""Did you mean ...?" hints for misspelled names (difflib)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["did_you_mean"]


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A hint to append to a message, or ``""`` when nothing is close.

    Returns:
        ``"; did you mean 'x'?"`` for the closest candidate by
        ``difflib.get_close_matches`` (cutoff 0.6), else ``""``.
    """
    matches = difflib.get_close_matches(word, [str(c) for c in candidates], n=1, cutoff=0.6)
    return f"; did you mean '{matches[0]}'?" if matches else ""
