"""The canonical graph document of a notebook (the form shared with YAML pipelines and Python flows).

::

    {"name": "etl", "kind": "notebook", "source": "etl.ipynb",
     "parameters": {"n": {"type": "integer", "default": 3}},
     "tasks": [{"name": "load", "kind": "cells",
                "location": {"path": "etl.ipynb", "line": 1, "column": 1, "cell": 2}}],
     "edges": [{"from": "load", "to": "clean",
                "via": [{"kind": "variable", "name": "df", "line": 3, "cell": 2}]}]}

Tasks come in notebook order, edges sorted by (from, to). Each variable in
``via`` names the cell and line where the upstream task last defines it; a
``needs:`` tag gives ``{"kind": "needs", "name": UPSTREAM, "line": null,
"cell": <cell holding the tag>}``. A notebook without task cells is one task
of kind ``notebook`` (it runs whole, with papermill).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from partita_workbench.notebooks.cells.analysis import analyse_notebook
from partita_workbench.notebooks.cells.model import NotebookGraph

__all__ = ["graph_document", "document_of", "json_schema_type"]

_JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number", list: "array", dict: "object"}


def json_schema_type(annotation: type | None) -> str | None:
    """The JSON Schema type name of a parameter's Python type (``int`` → ``"integer"``), or ``None``."""
    return _JSON_TYPES.get(annotation) if annotation is not None else None


def graph_document(path: str | Path) -> dict[str, Any]:
    """The graph document of a notebook file (see the module docstring).

    Raises:
        partita.exceptions.InvalidTarget: missing or unreadable notebook.
    """
    return document_of(analyse_notebook(path))


def document_of(graph: NotebookGraph) -> dict[str, Any]:
    """The graph document of an analysed notebook."""
    parameters: dict[str, Any] = {}
    for param in graph.parameters:
        entry: dict[str, Any] = {}
        kind = json_schema_type(param.annotation)
        if kind is not None:
            entry["type"] = kind
        if param.literal:
            entry["default"] = param.default
        parameters[param.name] = entry
    if not graph.tasks:
        tasks = [{"name": graph.name, "kind": "notebook", "location": {"path": graph.path, "line": None, "column": None, "cell": None}}]
        return {"name": graph.name, "kind": "notebook", "source": graph.path, "parameters": parameters, "tasks": tasks, "edges": []}
    tasks = [
        {"name": t.name, "kind": "cells", "location": {"path": graph.path, "line": 1, "column": 1, "cell": t.first_cell}}
        for t in graph.tasks
    ]
    edges = []
    for edge in graph.edges:
        via: list[dict[str, Any]] = []
        if edge.needs_cell is not None:
            via.append({"kind": "needs", "name": edge.upstream, "line": None, "cell": edge.needs_cell})
        via += [{"kind": "variable", "name": d.name, "line": d.line, "cell": d.cell} for d in edge.variables]
        edges.append({"from": edge.upstream, "to": edge.downstream, "via": via})
    return {"name": graph.name, "kind": "notebook", "source": graph.path, "parameters": parameters, "tasks": tasks, "edges": edges}
