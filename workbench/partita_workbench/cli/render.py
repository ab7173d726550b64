"""Rendering helpers shared by the CLI commands (state colours, durations, times)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

STATE_STYLES = {
    "COMPLETED": "green",
    "FAILED": "red",
    "CRASHED": "bold red",
    "CANCELLED": "grey50",
    "CANCELLING": "grey50",
    "RUNNING": "blue",
    "PENDING": "yellow",
    "SCHEDULED": "yellow",
    "PAUSED": "magenta",
}


def state_text(state_type: str | None, name: str | None) -> Text:
    """A state's name coloured by its type (``Completed`` green, ``Failed`` red...)."""
    label = name or (state_type or "-").capitalize()
    return Text(label, style=STATE_STYLES.get(state_type or "", ""))


def duration_text(seconds: float | None) -> str:
    """``0.012 s``, ``3.4 s``, ``2 min 05 s``."""
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds:.3f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s"


def time_text(value: dt.datetime | None) -> str:
    """Local wall-clock time of a UTC timestamp, to the millisecond."""
    if value is None:
        return "-"
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def cache_text(state: Any) -> str:
    """``hit`` for a Cached run, ``ran: <reason>`` for a cached task that ran (why it was not taken from the cache), else ``""``."""
    if state.name == "Cached":
        return "hit"
    if state.name == "Skipped":  # its if: was false: nothing ran, nothing was looked up
        return ""
    reason = (state.state_details or {}).get("cache_miss_reason")
    return f"ran: {reason}" if reason else ""


_stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def print_error(message: str, label: str = "Error") -> None:
    """Print ``Error: message`` on stderr, as one unwrapped line.

    ``message`` is plain text: square brackets in it (paths, parameter
    values) are shown as they are, never read as Rich markup.  The line is
    not wrapped at the console width, so it stays whole when stderr is a
    file or a pipe; a terminal wraps it itself.
    """
    _stderr.print(f"[bold red]{escape(label)}:[/] {escape(message)}")
