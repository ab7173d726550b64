"""Ploomber pipelines: run a Ploomber ``pipeline.yaml`` (Spec API) unchanged.

A Ploomber project is a ``pipeline.yaml`` listing tasks whose ``source`` is a
notebook or a jupytext script (percent or light format) with a ``parameters``
cell; products are written where Ploomber writes them (paths relative to the
``pipeline.yaml`` folder) and the same ``product`` / ``upstream`` / ``params``
values are injected. What is supported is listed in :mod:`.spec`.

>>> if is_ploomber_spec(document):                     # doctest: +SKIP
...     flow = compile_ploomber(load_ploomber(path))

* :func:`is_ploomber_spec` — tell a Ploomber spec from a Partita pipeline;
* :func:`load_ploomber` — read and check it (every problem as ``file:line:col``);
* :func:`ploomber_problems` — the same check as a list of problem lines;
* :func:`compile_ploomber` — the :class:`partita.Flow` that runs it;
* :func:`graph_document` — its canonical graph document.

``compile_ploomber`` and ``graph_document`` are imported lazily (they need the
SDK engine); detection and checks do not.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from partita_workbench.pipelines.ploomber.spec import (
    PloomberPipeline,
    PloomberTask,
    is_ploomber_spec,
    load_ploomber,
    ploomber_problems,
)

if TYPE_CHECKING:
    from partita_workbench.pipelines.ploomber.compiler import compile_ploomber, graph_document

__all__ = [
    "PloomberPipeline",
    "PloomberTask",
    "is_ploomber_spec",
    "is_ploomber_file",
    "load_ploomber",
    "ploomber_problems",
    "compile_ploomber",
    "graph_document",
]


def is_ploomber_file(path: str | Path) -> bool:
    """Whether a YAML file holds a Ploomber spec (``False`` when it cannot be parsed)."""
    from partita_workbench.pipelines.yamlio import YamlSyntaxError, read_yaml

    try:
        return is_ploomber_spec(read_yaml(Path(path)))
    except (YamlSyntaxError, OSError, UnicodeDecodeError):
        return False


def __getattr__(name: str) -> Any:
    if name in ("compile_ploomber", "graph_document"):
        from partita_workbench.pipelines.ploomber import compiler

        return getattr(compiler, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
