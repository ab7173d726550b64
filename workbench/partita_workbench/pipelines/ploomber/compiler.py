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
import inspect
import re
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

from partita import Flow, Task, get_run_logger
from partita.exceptions import InvalidTarget
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


def _partita_task(pipeline: PloomberPipeline, task: PloomberTask, refresh: bool) -> Task:
    return Task(
        _task_function(pipeline, task),
        name=task.name,
        persist_result=True,
        description=f"{task.runner} {task.source.path.name} (Ploomber task)",
        refresh_cache=True if refresh else None,
        **_cache_options(task),
    )


def _refreshed(pipeline: PloomberPipeline, refresh: bool | Collection[str]) -> set[str]:
    """Tasks to run again: all, or the named ones and everything downstream of them.

    A refreshed task stores its new result under the same key, so downstream
    keys do not change: they are refreshed too (as Partita pipelines do).
    """
    if refresh is True:
        return set(pipeline.tasks)
    names = set(refresh or ())
    unknown = sorted(names - set(pipeline.tasks))
    if unknown:
        raise InvalidTarget(
            f"{pipeline.path.name}: cannot refresh unknown task(s) {', '.join(unknown)}; the tasks are {', '.join(pipeline.tasks)}"
        )
    for name, task in pipeline.tasks.items():  # topological order: upstream first
        if set(task.upstream) & names:
            names.add(name)
    return names


def compile_ploomber(pipeline: PloomberPipeline | str | Path, *, refresh: bool | Collection[str] = False) -> Flow:
    """Build the flow that runs a Ploomber pipeline.

    Args:
        pipeline: a loaded pipeline, or the path of its ``pipeline.yaml``.
        refresh: ``True`` to run every task again instead of taking it from
            the cache (as ``ploomber build --force``), or the names of tasks
            to run again with everything downstream of them.

    Returns:
        A :class:`partita.Flow` named after the pipeline's folder, whose
        parameters are the keys of ``env.yaml`` (defaults: its values; a run
        with other values loads the pipeline with them, as ``ploomber build
        --env--KEY VALUE``); it returns ``{task name: product}`` or raises
        the error of the first failed task.

    Raises:
        partita.exceptions.ValidationError, partita.exceptions.InvalidTarget:
            when given a path that does not load.
        partita.exceptions.InvalidTarget: ``refresh`` names an unknown task.
    """
    if not isinstance(pipeline, PloomberPipeline):
        pipeline = load_ploomber(pipeline)
    loaded = pipeline
    plans: dict[str, tuple[PloomberPipeline, dict[str, Task]]] = {}

    def plan(values: dict[str, Any]) -> tuple[PloomberPipeline, dict[str, Task]]:
        """The pipeline with these env.yaml values (reloaded when they differ) and its tasks."""
        key = repr(sorted(values.items()))
        if key not in plans:
            current = loaded if values == loaded.parameters else load_ploomber(loaded.path, env=values)
            refreshed = _refreshed(current, refresh)
            plans[key] = current, {n: _partita_task(current, t, n in refreshed) for n, t in current.tasks.items()}
        return plans[key]

    plan(dict(loaded.parameters))  # unknown --refresh names are reported now, not at run time

    def run_pipeline(**values: Any) -> dict[str, Any]:
        current, steps = plan(values)
        futures: dict[str, Any] = {}
        for name, task in current.tasks.items():
            futures[name] = steps[name].submit(
                task.product,
                upstream_value(current, task),
                task.params,
                _resources_digest(task),
                wait_for=[futures[upstream] for upstream in task.upstream],
            )
        for future in futures.values():
            future.wait()
        return {name: future.result() for name, future in futures.items()}

    run_pipeline.__name__ = run_pipeline.__qualname__ = re.sub(r"\W", "_", loaded.name) or "pipeline"
    run_pipeline.__doc__ = f"Ploomber pipeline {loaded.path.name} in {loaded.folder.name}."
    run_pipeline.__signature__ = _signature(loaded)  # type: ignore[attr-defined]
    runner = ThreadPoolTaskRunner(max_workers=1) if loaded.executor == "serial" else None
    return Flow(run_pipeline, name=loaded.name, description=run_pipeline.__doc__, task_runner=runner)


_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number", list: "array", dict: "object"}


def _signature(pipeline: PloomberPipeline) -> inspect.Signature:
    """One keyword parameter per env.yaml key, its value the default (typed when it is a plain literal)."""
    parameters = []
    for name, default in pipeline.parameters.items():
        annotation = type(default) if type(default) in _TYPES else inspect.Parameter.empty
        parameters.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation))
    return inspect.Signature(parameters)


def graph_document(pipeline: PloomberPipeline | str | Path) -> dict[str, Any]:
    """The canonical graph document (tasks, edges and what creates them) of a Ploomber pipeline.

    A task is of kind ``notebook`` (scripts run as notebooks) or ``python``
    (a function); an edge's ``via`` is the ``upstream`` variable of the
    source's parameters cell (kind ``variable``, with its line in a script),
    a function's ``upstream`` argument (kind ``argument``) or the YAML
    ``upstream:`` (kind ``needs``).
    """
    if not isinstance(pipeline, PloomberPipeline):
        pipeline = load_ploomber(pipeline)
    tasks = []
    edges = []
    order = sorted(pipeline.tasks.values(), key=lambda t: t.position)
    for task in order:
        line, column = task.position
        tasks.append(
            {"name": task.name, "kind": "python" if task.runner == "PythonCallable" else "notebook", "location": {"path": str(pipeline.path), "line": line, "column": column, "cell": None}}
        )
        for upstream in task.upstream:
            if task.upstream_from == "source" and task.runner == "PythonCallable":
                via = {"kind": "argument", "name": "upstream", "line": task.source.upstream_position[0], "cell": None}
            elif task.upstream_from == "source":
                via = {"kind": "variable", "name": "upstream", "line": task.source.upstream_position[0], "cell": task.source.parameters_cell}
            else:
                via = {"kind": "needs", "name": upstream, "line": line, "cell": None}
            edges.append({"from": upstream, "to": task.name, "via": [via]})
    edges.sort(key=lambda e: (e["from"], e["to"]))
    parameters = {
        name: {"type": _TYPES[type(value)], "default": value} if type(value) in _TYPES else {"default": value}
        for name, value in pipeline.parameters.items()
    }
    return {"name": pipeline.name, "kind": "yaml", "source": str(pipeline.path), "parameters": parameters, "tasks": tasks, "edges": edges}

