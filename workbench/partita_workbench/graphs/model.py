"""The canonical graph document: one JSON form for YAML pipelines, notebooks and Python flows.

A document is a plain JSON-able dict (what ``partita graph --format json``
prints and what the front end draws); these models describe and validate it,
and ``schemas/graph.schema.json`` is generated from them::

    {
      "name": "etl", "kind": "yaml", "source": "pipelines/etl.yaml",
      "parameters": {"day": {"type": "string", "format": "date", "default": "2024-05-01"}},
      "tasks": [{"name": "load", "kind": "python",
                 "location": {"path": "pipelines/etl.yaml", "line": 12, "column": 3, "cell": null}}],
      "edges": [{"from": "load", "to": "clean",
                 "via": [{"kind": "reference", "name": "tasks.load.result", "line": 15, "cell": null}]}]
    }

Tasks are in definition order; edges sorted by ``(from, to)``; each edge's
``via`` lists what creates it: a ``needs:`` entry (or Python ``wait_for=``),
a ``${{ tasks.X.result }}`` reference, a notebook variable (with the line and
cell where it is defined), a Python argument.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DocumentKind",
    "TaskKind",
    "ViaKind",
    "Location",
    "GraphParameter",
    "GraphTask",
    "Via",
    "GraphEdge",
    "GraphDocument",
]

DocumentKind = Literal["yaml", "notebook", "python"]
TaskKind = Literal["python", "notebook", "shell", "pipeline", "cells"]
ViaKind = Literal["needs", "reference", "variable", "argument"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, use_attribute_docstrings=True)


class Location(_Model):
    """Where a task is defined."""

    path: str
    """The file, as given to the command (or relative to the pipeline's folder)."""
    line: int | None = None
    """1-based line of the definition (the YAML task key, the def, the cell's first line)."""
    column: int | None = None
    """1-based column of the definition."""
    cell: int | None = None
    """0-based index of the notebook cell holding the task; null outside notebooks."""


class GraphParameter(_Model):
    """A parameter of the pipeline, notebook or flow, with its JSON Schema type."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, use_attribute_docstrings=True)

    type: str | None = None
    """JSON Schema type: string, integer, number, boolean, array, object; null when unknown."""
    format: str | None = None
    """JSON Schema format, e.g. date or date-time for date parameters."""
    default: Any = None
    """The default value, when the parameter has one (JSON form)."""
    description: str | None = None
    """What the parameter means."""


class GraphTask(_Model):
    """One node of the graph."""

    name: str
    """The task's name: the YAML task key, the @task name, the cell's task name; task runs bear it."""
    kind: TaskKind
    """What runs: a Python function, a whole notebook, a shell command, a sub-pipeline, or notebook cells."""
    location: Location
    """Where the task is defined."""
    state: str | None = None
    """The task's state in a recorded run (partita graph --run); absent otherwise."""


class Via(_Model):
    """One thing that makes an edge."""

    kind: ViaKind
    """needs (a needs: entry, Python wait_for=), reference (a ${{ tasks.X.result }} expression), variable (a notebook variable), argument (a Python argument)."""
    name: str
    """The needed task, the expression, the variable or the argument."""
    line: int | None = None
    """1-based line where it appears (for a notebook variable: where it is defined)."""
    cell: int | None = None
    """0-based notebook cell where it appears; null outside notebooks."""


class GraphEdge(_Model):
    """A dependency: ``to`` runs after ``from`` (and may use its result)."""

    from_: str = Field(alias="from")
    """The upstream task."""
    to: str
    """The downstream task."""
    via: list[Via] = Field(default_factory=list)
    """What creates the edge, in source order."""


class GraphDocument(_Model):
    """The task graph of one pipeline, notebook or Python flow."""

    name: str
    """The pipeline's, notebook's or flow's name."""
    kind: DocumentKind
    """The authoring form."""
    source: str
    """The file, as given."""
    parameters: dict[str, GraphParameter] = Field(default_factory=dict)
    """Parameters by name."""
    tasks: list[GraphTask] = Field(default_factory=list)
    """Tasks in definition order."""
    edges: list[GraphEdge] = Field(default_factory=list)
    """Edges sorted by (from, to)."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able dict form: ``from`` spelled so, keys that were not given left out (``state``, a parameter's ``format``...)."""
        data = self.model_dump(mode="json", by_alias=True, exclude_unset=True)
        data.setdefault("parameters", {})
        data.setdefault("edges", [])
        for task in data["tasks"]:
            if task.get("state") is None:
                task.pop("state", None)
        return data

    def task_names(self) -> list[str]:
        """Task names in definition order."""
        return [t.name for t in self.tasks]

    def edge_pairs(self) -> list[tuple[str, str]]:
        """``(from, to)`` of every edge, sorted."""
        return sorted((e.from_, e.to) for e in self.edges)
