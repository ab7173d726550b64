"""Rendering helpers shared by the CLI commands (state colours, durations, times)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.console import Console
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


def time_text(value: dt.datetime | None, milliseconds: bool = True) -> str:
    """Local wall-clock time of a UTC timestamp, to the millisecond (or the second)."""
    if value is None:
        return "-"
    text = value.astimezone().strftime("%Y-%m-%d %H:%M:%S.%f")
    return text[:-3] if milliseconds else text[:-7]


def cache_text(state: Any) -> str:
    """``hit`` for a Cached run, ``ran: <reason>`` for a cached task that ran (why it was not taken from the cache), else ``""``."""
    if state.name == "Cached":
        return "hit"
    if state.name == "Skipped":  # its if: was false: nothing ran, nothing was looked up
        return ""
    reason = (state.state_details or {}).get("cache_miss_reason")
    return f"ran: {reason}" if reason else ""


def plain_console(stderr: bool = False, soft_wrap: bool = False) -> Console:
    """A console that prints text as given: no Rich markup, no highlighting.

    What the command line prints holds user values (task and flow names,
    parameters, exception messages, paths) in which square brackets and
    ``:emoji_codes:`` are text; styled parts are :class:`rich.text.Text`
    objects instead of markup.
    """
    return Console(stderr=stderr, markup=False, emoji=False, highlight=False, soft_wrap=soft_wrap)


_stderr = plain_console(stderr=True, soft_wrap=True)


def print_error(message: str, label: str = "Error") -> None:
    """Print ``Error: message`` on stderr, as one unwrapped line.

    ``message`` is plain text: square brackets in it (paths, parameter
    values) are shown as they are, never read as Rich markup.  The line is
    not wrapped at the console width, so it stays whole when stderr is a
    file or a pipe; a terminal wraps it itself.
    """
    _stderr.print(Text.assemble((f"{label}:", "bold red"), " ", message))
