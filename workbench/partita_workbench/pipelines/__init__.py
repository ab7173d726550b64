"""YAML pipelines: load and validate ``pipeline.yaml``, compile it to a :class:`partita.Flow`.

>>> flow = compile_pipeline(load_pipeline("pipeline.yaml"))  # doctest: +SKIP
>>> flow(who="world")                                         # doctest: +SKIP
{'compose': 'Hello, world!', 'show': '/home/me/.partita/storage/notebooks/...'}

The compiler is imported lazily (it needs the SDK engine); loading and
validating only need the SDK's exceptions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from partita_workbench.pipelines.loader import Pipeline, load_pipeline
from partita_workbench.pipelines.spec import CacheSpec, ParameterSpec, PipelineSpec, TaskOptions, TaskSpec

if TYPE_CHECKING:
    from partita_workbench.pipelines.compiler import compile_pipeline

__all__ = [
    "Pipeline",
    "PipelineSpec",
    "TaskSpec",
    "TaskOptions",
    "CacheSpec",
    "ParameterSpec",
    "load_pipeline",
    "compile_pipeline",
]


def __getattr__(name: str) -> Any:
    if name == "compile_pipeline":
        from partita_workbench.pipelines.compiler import compile_pipeline

        return compile_pipeline
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
