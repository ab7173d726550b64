"""Ploomber pipelines: run a Ploomber ``pipeline.yaml`` (Spec API) unchanged.

A Ploomber project is a ``pipeline.yaml`` listing tasks whose ``source`` is a
notebook or a jupytext script (percent or light format) with a ``parameters``
cell; products are written where Ploomber writes them (paths relative to the
``pipeline.yaml`` folder) and the same ``product`` / ``upstream`` / ``params``
values are injected. What is supported is listed in :mod:`.spec`.

>>> if is_ploomber_file(path):                        # doctest: +SKIP
...     flow = compile_ploomber(load_ploomber(path))

* :func:`is_ploomber_spec` / :func:`is_ploomber_file` — tell a Ploomber spec
  from a Partita pipeline;
* :func:`load_ploomber` — read and check it (every problem as ``file:line:col``);
* :func:`ploomber_problems` — the same check as a list of problem lines;
* :func:`compile_ploomber` — the :class:`partita.Flow` that runs it;
* :func:`graph_document` — its canonical graph document.

Everything is imported on first use (reading sources needs nbformat and
jupytext; compiling needs the SDK engine).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from partita_workbench.pipelines.ploomber.compiler import compile_ploomber, graph_document
    from partita_workbench.pipelines.ploomber.detect import is_ploomber_file, is_ploomber_spec
    from partita_workbench.pipelines.ploomber.spec import PloomberPipeline, PloomberTask, load_ploomber, ploomber_problems

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

_HOMES = {
    "compile_ploomber": "compiler",
    "graph_document": "compiler",
    "is_ploomber_spec": "detect",
    "is_ploomber_file": "detect",
    **{name: "spec" for name in ("PloomberPipeline", "PloomberTask", "load_ploomber", "ploomber_problems")},
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
