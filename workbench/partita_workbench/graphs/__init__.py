"""The canonical task-graph document and its drawings.

YAML pipelines, notebooks and ``@flow`` Python files all describe their task
graph in one JSON form (:class:`GraphDocument`, schema in
``schemas/graph.schema.json``), so the same pipeline written three ways gives
the same task names and edges. :func:`render` draws a document as text,
Mermaid, Graphviz DOT, SVG or JSON; :func:`graph_document` makes one from a
``partita graph`` target.

>>> doc = graph_document("pipeline.yaml")          # doctest: +SKIP
>>> print(render(doc, "mermaid", {"load": "Failed"}))  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from partita.exceptions import InvalidTarget

from partita_workbench.graphs.model import (
    GraphDocument,
    GraphEdge,
    GraphParameter,
    GraphTask,
    Location,
    Via,
)
from partita_workbench.graphs.render import FORMATS, render

__all__ = [
    "FORMATS",
    "GraphDocument",
    "GraphEdge",
    "GraphParameter",
    "GraphTask",
    "Location",
    "Via",
    "graph_document",
    "graph_json_schema",
    "render",
]


def graph_json_schema() -> dict[str, Any]:
    """The JSON Schema of a graph document (draft 2020-12), as committed in ``schemas/graph.schema.json``."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **GraphDocument.model_json_schema(by_alias=True)}


def graph_document(target: str) -> dict[str, Any]:
    """The graph document of a ``partita graph`` target.

    Args:
        target: a pipeline ``.yaml``/``.yml``, a notebook ``.ipynb``, or
            ``path/to/file.py:flow_name``.

    Returns:
        A dict in the form of :class:`GraphDocument`, checked against it.

    Raises:
        partita.exceptions.InvalidTarget: a missing file, an unknown kind of
            target, a flow that is not found.
        partita.exceptions.ValidationError: an invalid pipeline.
    """
    head, sep, attr = target.rpartition(":")
    if sep and head.endswith(".py"):
        from partita_workbench.graphs.python_flow import python_graph_document

        if not Path(head).is_file():
            raise InvalidTarget(f"{target}: no such file {head!r}")
        document = python_graph_document(head, attr, source=head)
    else:
        path = Path(target)
        if not path.exists():
            raise InvalidTarget(f"{target}: no such file; give a pipeline .yaml, a notebook .ipynb or file.py:flow_name")
        if path.suffix in (".yaml", ".yml"):
            from partita_workbench.pipelines.document import graph_document as pipeline_document
            from partita_workbench.pipelines.ploomber import graph_document as ploomber_document
            from partita_workbench.pipelines.ploomber import is_ploomber_file

            document = ploomber_document(path) if is_ploomber_file(path) else pipeline_document(path, source=target)
        elif path.suffix == ".ipynb":
            document = _notebook_document(path)
        elif path.suffix == ".py":
            raise InvalidTarget(f"{target}: name the flow to draw, as {target}:flow_name")
        else:
            raise InvalidTarget(f"{target}: unknown kind of target; give a pipeline .yaml, a notebook .ipynb or file.py:flow_name")
    return GraphDocument.model_validate(document).to_dict()


def _notebook_document(path: Path) -> dict[str, Any]:
    from partita_workbench.notebooks import graph_document as notebook_document

    return notebook_document(path)
