"""What one YAML task does when its task run starts.

Every task of a compiled pipeline runs the same function shape,
``fn(template, values, upstream, item=None, map_error=None)``:

* ``template`` — the task's static YAML: its arguments (``with:``,
  ``parameters:`` or the command), ``if:``, ``outputs:`` and ``env:``;
* ``values`` — the parameters, environment variables and run fields its
  expressions reference (``{"params": {...}, "env": {...}, "run": {...}}``),
  nothing more, so a cache key over the inputs changes only with what the
  task uses;
* ``upstream`` — the futures of the tasks it references, which the engine
  resolves to their results before the call;
* ``item`` — the current item of a ``map:`` task.

The function evaluates ``if:`` (returning a ``Skipped`` state when false),
renders the arguments, and calls the Python function, the notebook, the
shell command or the sub-pipeline.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import os
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from partita import get_run_logger
from partita.exceptions import RunError

from partita_workbench.pipelines.expressions import ExpressionError, render
from partita_workbench.pipelines.shell import run_shell

__all__ = ["TaskFunction", "MissingOutputError", "python_function", "notebook_function", "shell_function", "pipeline_function"]

TaskFunction = Callable[..., Any]


class MissingOutputError(RunError):
    """A shell task finished without writing a file listed in its ``outputs:``."""


def _namespace(values: dict[str, Any], upstream: dict[str, Any], item: Any) -> dict[str, Any]:
    return {**values, "tasks": {key: {"result": result} for key, result in upstream.items()}, "item": item}


def _prologue(template: dict[str, Any], namespace: dict[str, Any], map_error: str | None) -> Any:
    """Raise a ``map:`` problem found by the flow; return a Skipped state when ``if:`` is false, else ``None``."""
    if map_error is not None:
        raise ExpressionError(map_error)
    condition = template.get("if")
    if condition is None:
        return None
    if isinstance(condition, str):
        condition = render(condition, namespace)
    if condition:
        return None
    from partita.states import Completed

    return Completed(name="Skipped", message=f"skipped: 'if: {template['if']}' is false")


def _task_function(body: Callable[[dict[str, Any], dict[str, Any]], Any], name: str, doc: str) -> TaskFunction:
    """Wrap ``body(template, namespace)`` in the common task-function shape (see the module docstring)."""

    def run(template: dict[str, Any], values: dict[str, Any], upstream: dict[str, Any], item: Any = None, map_error: str | None = None) -> Any:
        namespace = _namespace(values, upstream, item)
        skipped = _prologue(template, namespace, map_error)
        return skipped if skipped is not None else body(template, namespace)

    run.__name__ = run.__qualname__ = name
    run.__doc__ = doc
    return run


def python_function(target: Callable[..., Any]) -> TaskFunction:
    """The task function of a ``python:`` task calling ``target(**with)``."""

    def body(template: dict[str, Any], namespace: dict[str, Any]) -> Any:
        value = target(**render(template["args"], namespace))
        if inspect.isawaitable(value):  # an async def target: run it to completion here
            value = asyncio.run(_await(value))
        return value

    return _task_function(body, "run_python", "Call the task's Python function with its rendered ``with:`` arguments.")


async def _await(awaitable: Any) -> Any:
    return await awaitable


def _notebook_value(value: Any) -> Any:
    """Notebook parameters are written into code by papermill: dates go as ISO 8601 text."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _notebook_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_notebook_value(v) for v in value]
    return value


def notebook_function(notebook: Path) -> TaskFunction:
    """The task function of a ``notebook:`` task; its result is the executed notebook's path.

    The kernel runs in ``template["cwd"]``, with ``template.get("kernel")``
    (``None``: the notebook's kernelspec).
    """

    def body(template: dict[str, Any], namespace: dict[str, Any]) -> Any:
        from partita_workbench.notebooks.execute import run_notebook  # papermill: only when a notebook runs

        parameters = _notebook_value(render(template["args"], namespace))
        return run_notebook(notebook, parameters, kernel_name=template.get("kernel"), cwd=Path(template["cwd"]))

    return _task_function(body, "run_notebook_task", "Run the notebook with its rendered ``parameters:``; returns the executed notebook's path.")


def shell_function(key: str) -> TaskFunction:
    """The task function of a ``shell:`` task, run in ``template["cwd"]``: stdout, or the ``outputs:`` paths."""

    def body(template: dict[str, Any], namespace: dict[str, Any]) -> Any:
        cwd = Path(template["cwd"])
        command = render(template["args"], namespace, quote=shlex.quote)
        env = {**os.environ, **template.get("env", {})}
        stdout = run_shell(command, cwd, get_run_logger(), env=env)
        outputs = template.get("outputs")
        if outputs is None:
            return stdout
        return _output_paths(key, cwd, render(outputs, namespace))

    return _task_function(body, "run_shell_task", "Run the rendered command (values inserted shell-quoted); returns stdout or the outputs' paths.")


def _output_paths(key: str, cwd: Path, outputs: list[Any] | dict[str, Any]) -> list[str] | dict[str, str]:
    named = outputs if isinstance(outputs, dict) else {str(i): p for i, p in enumerate(outputs)}
    paths = {name: str((cwd / str(path)).resolve()) for name, path in named.items()}
    missing = [f"'{named[name]}' (looked for {path})" for name, path in paths.items() if not os.path.exists(path)]
    if missing:
        raise MissingOutputError(f"task '{key}' did not write its output(s) {', '.join(missing)}; check the command or 'outputs:'")
    return paths if isinstance(outputs, dict) else list(paths.values())


def pipeline_function(child: Any) -> TaskFunction:
    """The task function of a ``pipeline:`` task: runs the child flow as a subflow; its result is the child's results."""

    def body(template: dict[str, Any], namespace: dict[str, Any]) -> Any:
        return child(**render(template["args"], namespace))

    return _task_function(body, "run_pipeline_task", "Run the sub-pipeline with its rendered ``parameters:``; returns ``{task key: result}``.")
