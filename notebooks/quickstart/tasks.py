"""Python tasks of the quickstart pipeline (``pipeline.yaml`` refers to them as ``tasks:NAME``)."""

from __future__ import annotations

import fsspec
import nbformat


def compose_message(salutation: str, who: str) -> str:
    """The greeting the ``greet`` notebook prints, e.g. ``"Hello, world!"``."""
    return f"{salutation}, {who}!"


def printed_output(notebook: str) -> str:
    """What an executed notebook printed: its stdout streams joined, stripped.

    Args:
        notebook: path or fsspec URL of an executed notebook (the result of a
            notebook task).
    """
    with fsspec.open(notebook, "r", encoding="utf-8") as file:
        executed = nbformat.read(file, as_version=4)
    return "".join(
        output.get("text", "")
        for cell in executed.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stdout"
    ).strip()
