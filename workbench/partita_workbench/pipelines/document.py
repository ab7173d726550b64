"""The canonical graph document of a YAML pipeline (see :mod:`partita_workbench.graphs`).

Each task is a node at the position of its key; an edge ``a → b`` exists
when ``b`` lists ``a`` in ``needs:`` or refers to ``${{ tasks.a.result }}``,
and its ``via`` says which, with the line where each appears.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from partita_workbench.pipelines.checks import task_expressions
from partita_workbench.pipelines.expressions import analyze, find_expressions
from partita_workbench.pipelines.loader import Pipeline, load_pipeline
from partita_workbench.pipelines.spec import PARAMETER_JSON_SCHEMA
from partita_workbench.pipelines.yamlio import locate, to_plain

__all__ = ["graph_document"]


def _parameters(pipeline: Pipeline) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, spec in pipeline.spec.parameters.items():
        entry: dict[str, Any] = dict(PARAMETER_JSON_SCHEMA[spec.type])
        if not spec.required:
            entry["default"] = spec.default
        if spec.description:
            entry["description"] = spec.description
        out[name] = entry
    return out


def graph_document(pipeline: Pipeline | str | Path, source: str | None = None) -> dict[str, Any]:
    """The graph document of a pipeline.

    Args:
        pipeline: a loaded pipeline or the path of its file.
        source: the path to show (default: the path given, else the file's).

    Returns:
        A dict in the form of :class:`partita_workbench.graphs.GraphDocument`.

    Raises:
        partita.exceptions.ValidationError, partita.exceptions.InvalidTarget:
            the file does not load.
    """
    if not isinstance(pipeline, Pipeline):
        source = source or str(pipeline)
        pipeline = load_pipeline(pipeline)
    shown = source or str(pipeline.path)
    tree = pipeline.document
    raw_tasks = to_plain(tree)["tasks"]
    tasks = []
    vias: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for key, spec in pipeline.spec.tasks.items():
        line, column = locate(tree, ("tasks", key), key=True)
        tasks.append({"name": key, "kind": spec.kind, "location": {"path": shown, "line": line, "column": column, "cell": None}})
        for index, need in enumerate(spec.needs):
            need_line, _ = locate(tree, ("tasks", key, "needs", index))
            vias.setdefault((need, key), []).append({"kind": "needs", "name": need, "line": need_line, "cell": None})
        for sub_path, text in task_expressions(raw_tasks[key]):
            text_line, _ = locate(tree, ("tasks", key, *sub_path))
            for expression in find_expressions(text):
                for ref in analyze(expression).references:
                    if ref.scope == "tasks":
                        entry = {"kind": "reference", "name": f"tasks.{ref.name}.result", "line": text_line, "cell": None}
                        if entry not in vias.setdefault((ref.name, key), []):
                            vias[(ref.name, key)].append(entry)
    edges = [{"from": a, "to": b, "via": sorted(v, key=lambda e: (e["line"] or 0))} for (a, b), v in sorted(vias.items())]
    return {
        "name": pipeline.name,
        "kind": "yaml",
        "source": shown,
        "parameters": _parameters(pipeline),
        "tasks": tasks,
        "edges": edges,
    }
