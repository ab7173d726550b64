"""A notebook as a Partita task, and as a one-task flow (``partita run x.ipynb``)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from partita import Flow, Task
from partita.exceptions import InvalidTarget

from partita_workbench.notebooks.execute import run_notebook
from partita_workbench.notebooks.parameters import notebook_parameters

__all__ = ["execute_notebook", "notebook_task", "notebook_flow"]


def execute_notebook(
    path: str,
    parameters: dict[str, Any] | None = None,
    kernel_name: str | None = None,
    cwd: str | None = None,
) -> str:
    """Task function: run a notebook with papermill; the result is the executed notebook's path.

    See :func:`partita_workbench.notebooks.execute.run_notebook` for the
    arguments and errors.
    """
    return run_notebook(path, parameters, kernel_name=kernel_name, cwd=cwd)


notebook_task: Task = Task(
    execute_notebook,
    name="notebook",
    persist_result=True,
    description="Run a Jupyter notebook with papermill; the result is the executed notebook's path.",
)
"""The notebook task; give it a name per use with ``notebook_task.with_options(name=...)``."""


def notebook_flow(
    path: str | Path,
    parameters: dict[str, Any] | None = None,
    *,
    kernel_name: str | None = None,
    cwd: str | Path | None = None,
) -> Flow:
    """A flow of one task that runs the notebook, named after the notebook's file stem.

    The flow's parameters are the notebook's (its ``parameters`` cell, read
    with :func:`partita_workbench.notebooks.parameters.notebook_parameters`):
    a literal default gives the flow parameter's default and type
    (``n = 3`` → ``n: int = 3``); a ``None`` or non-literal default gives an
    untyped parameter defaulting to ``None``. At run time every parameter whose
    value is not ``None`` is injected, so an unset non-literal parameter keeps
    the notebook's own expression.

    Args:
        path: the notebook.
        parameters: defaults that replace the notebook's own (e.g. from a
            parameters file); names the notebook does not declare are added
            as untyped parameters.
        kernel_name: kernel to use instead of the notebook's kernelspec.
        cwd: working directory of the kernel; default the notebook's folder.

    Returns:
        A :class:`partita.Flow` whose return value is the executed notebook's
        path or URL.

    Raises:
        partita.exceptions.InvalidTarget: the notebook is missing or unreadable.
    """
    notebook = Path(path).expanduser().resolve()
    if not notebook.is_file():
        raise InvalidTarget(f"notebook '{path}' not found")
    try:
        declared = notebook_parameters(notebook)
    except Exception as exc:
        raise InvalidTarget(f"'{path}' is not a readable notebook: {type(exc).__name__}: {exc}") from exc
    overrides = dict(parameters or {})
    signature_params = []
    for param in declared:
        default = overrides.pop(param.name, param.default)
        annotation = param.annotation if param.annotation is not None else inspect.Parameter.empty
        if default is not None and annotation is not inspect.Parameter.empty and not isinstance(default, annotation):
            annotation = inspect.Parameter.empty  # an override of another type: leave it untyped
        signature_params.append(inspect.Parameter(param.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation))
    for name, default in overrides.items():
        signature_params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default))

    task = notebook_task.with_options(name=notebook.stem)
    cwd_text = str(cwd) if cwd is not None else None

    def run(**values: Any) -> str:
        injected = {name: value for name, value in values.items() if value is not None}
        return task(str(notebook), injected, kernel_name, cwd_text)

    run.__name__ = run.__qualname__ = notebook.stem.replace("-", "_").replace(" ", "_")
    run.__doc__ = f"Run notebook {notebook.name} with papermill."
    run.__signature__ = inspect.Signature(signature_params)  # type: ignore[attr-defined]
    return Flow(run, name=notebook.stem, description=run.__doc__)
