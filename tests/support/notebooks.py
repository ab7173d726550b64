"""Writing small notebooks for tests: ``make_notebook(path, [("source", ["tag"]), ...])``."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import nbformat

MARKDOWN = "md:"


def make_notebook(path: Path, cells: Iterable[tuple[str, list[str] | None] | str], minor: int = 5) -> Path:
    """Write a notebook of ``cells`` (a source, or ``(source, tags)``; ``"md:..."`` is a markdown cell).

    Args:
        minor: nbformat minor version; below 5 the cells carry no ids.
    """
    notebook = nbformat.v4.new_notebook()
    notebook.nbformat_minor = minor
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for item in cells:
        source, tags = (item, None) if isinstance(item, str) else item
        if source.startswith(MARKDOWN):
            cell = nbformat.v4.new_markdown_cell(source[len(MARKDOWN):])
        else:
            cell = nbformat.v4.new_code_cell(source)
        if tags:
            cell.metadata["tags"] = list(tags)
        if minor < 5:
            cell.pop("id", None)
        notebook.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))
    return path


LATE_OUTPUT_CELL = '''import sys, time
class _LateStdout:
    """Holds back "late" until the kernel flushes after its reply (2nd flush), 6 s later: a loaded machine."""
    def __init__(self, inner):
        self.inner, self.flushes = inner, 0
    def write(self, text):
        return self.inner.write(text)
    def flush(self):
        self.flushes += 1
        if self.flushes == 2:
            time.sleep(6)
            self.inner.write("late\\n")
            sys.stdout = self.inner
        return self.inner.flush()
    def __getattr__(self, name):
        return getattr(self.inner, name)
sys.stdout = _LateStdout(sys.stdout)
print("early")'''
"""A cell whose output reaches the client 6 s after the cell's reply: "early" then "late"."""
