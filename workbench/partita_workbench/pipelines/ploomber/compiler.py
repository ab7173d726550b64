"""Compiling a :class:`~.spec.PloomberPipeline` into a :class:`partita.Flow`, and its graph document.

Each Ploomber task becomes one Partita task run named after it; a task waits
for its upstream tasks (``wait_for=``), so the run's graph is the pipeline's.
``executor: serial`` (Ploomber's default) runs one task at a time,
``executor: parallel`` runs independent tasks at once.

Incremental runs: a task's cache key covers its source file's text, its
injected values (``product``, ``upstream`` paths and ``params``), the contents
of its ``params.resources_`` files and the cache keys of its upstream task
runs, so re-running an unchanged pipeline marks every task Cached. As in
Ploomber, a task whose product is missing on disk runs again (miss reason
``products changed``).
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path
from typing import Any

from partita import Flow, Task, get_run_logger
from partita.task_runners import ThreadPoolTaskRunner

from partita_workbench.pipelines.ploomber.execute import run_task
from partita_workbench.pipelines.ploomber.spec import PloomberPipeline, PloomberTask, load_ploomber

__all__ = ["compile_ploomber", "graph_document", "upstream_value"]


def upstream_value(pipeline: PloomberPipeline, task: PloomberTask) -> dict[str, Any]:
    """What ``upstream`` holds in the injected cell: ``{name: product}``.

    A wildcard entry (``train-*``) gives ``{pattern: {name: product, ...}}``
    for the tasks it matched.
    """
    grouped = {name for names in task.upstream_groups.values() for name in names}
    value: dict[str, Any] = {
        name: pipeline.tasks[name].product for name in task.upstream if name not in grouped
    }
    for pattern, names in task.upstream_groups.items():
        value[pattern] = {name: pipeline.tasks[name].product for name in names}
    return value


def _resources_digest(task: PloomberTask) -> dict[str, str]:
    return {key: hashlib.sha256(Path(path).read_bytes()).hexdigest() for key, path in task.resources.items()}


def _task_function(pipeline: PloomberPipeline, task: PloomberTask) -> Any:
    cwd = task.source.path.parent if task.local_execution else pipeline.folder

    def run_ploomber_task(product: Any, upstream: dict[str, Any], params: dict[str, Any], resources: dict[str, str]) -> Any:
        """Run the task's source with ``product``, ``upstream`` and ``params`` injected; returns the product."""
        return run_task(task, product, upstream, params, cwd, get_run_logger())

    run_ploomber_task.__name__ = re.sub(r"\W", "_", task.name)
    return run_ploomber_task


def _missing_products(task: PloomberTask) -> list[str]:
    return [path for path in task.product_paths() if not Path(path).exists()]


def _cache_options(task: PloomberTask) -> dict[str, Any]:
    from partita.cache_policies import INPUTS, UPSTREAM, CachePolicy, SourceText

    class ProductsOnDisk(CachePolicy):
        """Source text, inputs and upstream keys; a fresh key when a stored run's products are gone.

        When a value is stored under the key but a product file is missing,
        a ``products`` component unique to this moment is added, so the run
        misses (reason ``products changed``) and writes the products again;
        once they are back, the original key hits again.
        """

        inner = SourceText(task.source.text) + INPUTS + UPSTREAM

        def components(self, context: Any) -> dict[str, str] | None:
            from partita.engine.caching import has_cached_value

            parts = self.inner.components(context)
            if parts is None or not _missing_products(task) or not has_cached_value(context.task, parts):
                return parts
            return {**parts, "products": f"missing {', '.join(_missing_products(task))} at {time.time_ns()}"}

        def __repr__(self) -> str:
            return f"ProductsOnDisk({self.inner!r})"

    return {"cache_policy": ProductsOnDisk()}


def _partita_task(pipeline: PloomberPipeline, task: PloomberTask) -> Task:
    return Task(
        _task_function(pipeline, task),
        name=task.name,
        persist_result=True,
        description=f"{task.runner} {task.source.path.name} (Ploomber task)",
        **_cache_options(task),
    )


def compile_ploomber(pipeline: PloomberPipeline | str | Path) -> Flow:
    """Build the flow that runs a Ploomber pipeline.

    Args:
        pipeline: a loaded pipeline, or the path of its ``pipeline.yaml``.

    Returns:
        A :class:`partita.Flow` without parameters, named after the pipeline's
        folder; it returns ``{task name: product}`` or raises the error of the
        first failed task.

    Raises:
        partita.exceptions.ValidationError, partita.exceptions.InvalidTarget:
            when given a path that does not load.
    """
    if not isinstance(pipeline, PloomberPipeline):
        pipeline = load_ploomber(pipeline)
    steps = {name: _partita_task(pipeline, task) for name, task in pipeline.tasks.items()}

    def run_pipeline() -> dict[str, Any]:
        futures: dict[str, Any] = {}
        for name, task in pipeline.tasks.items():
            futures[name] = steps[name].submit(
                task.product,
                upstream_value(pipeline, task),
                task.params,
                _resources_digest(task),
                wait_for=[futures[upstream] for upstream in task.upstream],
            )
        for future in futures.values():
            future.wait()
        return {name: future.result() for name, future in futures.items()}

    run_pipeline.__name__ = run_pipeline.__qualname__ = re.sub(r"\W", "_", pipeline.name) or "pipeline"
    run_pipeline.__doc__ = f"Ploomber pipeline {pipeline.path.name} in {pipeline.folder.name}."
    runner = ThreadPoolTaskRunner(max_workers=1) if pipeline.executor == "serial" else None
    return Flow(run_pipeline, name=pipeline.name, description=run_pipeline.__doc__, task_runner=runner)


def graph_document(pipeline: PloomberPipeline | str | Path) -> dict[str, Any]:
    """The canonical graph document (tasks, edges and what creates them) of a Ploomber pipeline.

    Every task is of kind ``notebook`` (scripts run as notebooks); an edge's
    ``via`` is the ``upstream`` variable of the source's parameters cell
    (kind ``variable``, with its line in a script) or the YAML ``upstream:``
    (kind ``needs``).
    """
    if not isinstance(pipeline, PloomberPipeline):
        pipeline = load_ploomber(pipeline)
    tasks = []
    edges = []
    order = sorted(pipeline.tasks.values(), key=lambda t: t.position)
    for task in order:
        line, column = task.position
        tasks.append(
            {"name": task.name, "kind": "notebook", "location": {"path": str(pipeline.path), "line": line, "column": column, "cell": None}}
        )
        for upstream in task.upstream:
            if task.upstream_from == "source":
                via = {"kind": "variable", "name": "upstream", "line": task.source.upstream_position[0], "cell": task.source.parameters_cell}
            else:
                via = {"kind": "needs", "name": upstream, "line": line, "cell": None}
            edges.append({"from": upstream, "to": task.name, "via": [via]})
    edges.sort(key=lambda e: (e["from"], e["to"]))
    return {"name": pipeline.name, "kind": "yaml", "source": str(pipeline.path), "parameters": {}, "tasks": tasks, "edges": edges}

