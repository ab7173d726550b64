"""Ploomber's default task names."""

from __future__ import annotations

from pathlib import Path

__all__ = ["SOURCE_SUFFIXES", "default_task_name"]

SOURCE_SUFFIXES = (".py", ".ipynb", ".r", ".R", ".Rmd", ".sql", ".sh")
"""File extensions of Ploomber task sources; any other ``source`` is a dotted path to a function."""


def default_task_name(source: str) -> str:
    """Ploomber's default task name: a source file's stem, a function's name.

    ``scripts/clean.py`` → ``clean``; ``my_module.get_raw_data`` → ``get_raw_data``
    (Ploomber's Spec API: "if missing, inferred from the task's source").
    """
    path = Path(source)
    if path.suffix in SOURCE_SUFFIXES:
        return path.stem
    return source.rsplit(".", 1)[-1]
