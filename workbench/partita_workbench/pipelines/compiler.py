"""Compiling a validated :class:`~.loader.Pipeline` into a :class:`partita.Flow`.

The flow's parameters are the pipeline's ``parameters:`` (a real
``inspect.Signature``, so the flow validates types like any Python flow). Its
function submits every task in topological order, each with ``wait_for=`` the
futures of its ``needs:``, and with the futures of the tasks it references
passed inside its arguments; tasks that do not depend on each other therefore
run concurrently on the flow's task runner. It returns ``{task key: result}``.

References are rendered inside each task run, once upstream results are
known: a task function receives the YAML template (``arguments``), the values
of the parameters it references (``params``) and the results of the tasks it
references (``upstream``), and calls the Python function, the notebook or the
shell command with the rendered values.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from partita import Flow, Task, get_run_logger

from partita_workbench.notebooks.execute import run_notebook
from partita_workbench.pipelines.loader import Pipeline, load_pipeline, referenced_names
from partita_workbench.pipelines.references import render
from partita_workbench.pipelines.shell import run_shell
from partita_workbench.pipelines.spec import PARAMETER_TYPES, TaskSpec
from partita_workbench.pipelines.targets import resolve_callable

__all__ = ["compile_pipeline"]

TaskFunction = Callable[[Any, dict[str, Any], dict[str, Any]], Any]


def _python_function(target: Callable[..., Any]) -> TaskFunction:
    def run_python(arguments: dict[str, Any], params: dict[str, Any], upstream: dict[str, Any]) -> Any:
        """Call the task's Python function with its rendered ``with:`` arguments."""
        kwargs = render(arguments, params, upstream)
        value = target(**kwargs)
        if inspect.isawaitable(value):  # an async def target: run it to completion here
            value = asyncio.run(_await(value))
        return value

    return run_python


async def _await(awaitable: Any) -> Any:
    return await awaitable


def _notebook_function(notebook: Path, kernel: str | None, cwd: Path | None) -> TaskFunction:
    def run_notebook_task(arguments: dict[str, Any], params: dict[str, Any], upstream: dict[str, Any]) -> str:
        """Run the notebook with its rendered ``parameters:``; returns the executed notebook's path."""
        return run_notebook(notebook, render(arguments, params, upstream), kernel_name=kernel, cwd=cwd)

    return run_notebook_task


def _shell_function(cwd: Path) -> TaskFunction:
    def run_shell_task(arguments: str, params: dict[str, Any], upstream: dict[str, Any]) -> str:
        """Run the rendered command (references inserted shell-quoted); returns its stdout."""
        command = render(arguments, params, upstream, quote=shlex.quote)
        return run_shell(command, cwd, get_run_logger())

    return run_shell_task


@dataclass(frozen=True)
class _Step:
    """One task of the compiled plan.

    Attributes:
        key: the YAML task key (the task run's name).
        task: the :class:`partita.Task` to submit.
        template: what its function renders: ``with:``, ``parameters:`` or the command.
        params: parameter names the template references.
        upstream: task keys the template references (their futures are passed).
        needs: task keys from ``needs:`` (their futures go to ``wait_for=``).
    """

    key: str
    task: Task
    template: Any
    params: tuple[str, ...]
    upstream: tuple[str, ...]
    needs: tuple[str, ...]


def _step(key: str, spec: TaskSpec, folder: Path) -> _Step:
    cwd = (folder / spec.cwd).resolve() if spec.cwd else None
    if spec.kind == "python":
        fn, template = _python_function(resolve_callable(spec.python, folder)), spec.with_
    elif spec.kind == "notebook":
        fn, template = _notebook_function((folder / spec.notebook).resolve(), spec.kernel, cwd), spec.parameters
    else:
        fn, template = _shell_function(cwd or folder), spec.shell
    task = Task(
        fn,
        name=key,
        retries=spec.retries,
        retry_delay_seconds=spec.retry_delay_seconds,
        timeout_seconds=spec.timeout_seconds,
        persist_result=True,
        description=spec.description,
    )
    return _Step(
        key=key,
        task=task,
        template=template,
        params=tuple(referenced_names(spec, "params")),
        upstream=tuple(referenced_names(spec, "tasks")),
        needs=tuple(spec.needs),
    )


def _signature(pipeline: Pipeline) -> inspect.Signature:
    parameters = []
    for name, param in pipeline.spec.parameters.items():
        default = inspect.Parameter.empty if param.required else param.default
        annotation = PARAMETER_TYPES[param.type]
        if default is None:
            annotation = annotation | None  # an explicit "default: null"
        parameters.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation))
    return inspect.Signature(parameters)


def compile_pipeline(pipeline: Pipeline | str | Path) -> Flow:
    """Build the flow that runs a pipeline.

    Args:
        pipeline: a loaded pipeline, or the path of its YAML file (loaded
            with :func:`~.loader.load_pipeline`).

    Returns:
        A :class:`partita.Flow` named after the pipeline; calling it with the
        pipeline's parameters returns ``{task key: result}`` (a Python task's
        return value, a notebook task's executed-notebook path, a shell
        task's stripped stdout), or raises the exception of the first failed
        task (in topological order).

    Raises:
        partita.exceptions.ValidationError, partita.exceptions.InvalidTarget:
            when given a path that does not load.
    """
    if not isinstance(pipeline, Pipeline):
        pipeline = load_pipeline(pipeline)
    steps = [_step(key, pipeline.spec.tasks[key], pipeline.folder) for key in pipeline.order]

    def run_pipeline(**values: Any) -> dict[str, Any]:
        futures: dict[str, Any] = {}
        for step in steps:
            futures[step.key] = step.task.submit(
                step.template,
                {name: values[name] for name in step.params},
                {name: futures[name] for name in step.upstream},  # resolved to results by the engine
                wait_for=[futures[name] for name in step.needs],
            )
        for future in futures.values():
            future.wait()
        return {key: future.result() for key, future in futures.items()}

    run_pipeline.__name__ = run_pipeline.__qualname__ = re.sub(r"\W", "_", pipeline.name) or "pipeline"
    run_pipeline.__doc__ = pipeline.spec.description or f"Pipeline {pipeline.name} ({pipeline.path.name})."
    run_pipeline.__signature__ = _signature(pipeline)  # type: ignore[attr-defined]
    return Flow(run_pipeline, name=pipeline.name, description=pipeline.spec.description)
