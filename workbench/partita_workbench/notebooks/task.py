"""A notebook as a Partita task, and as a one-task flow (``partita run x.ipynb``)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any, Optional

import fsspec

from partita import Flow, Task

from partita_workbench.notebooks.execute import _read_source, _stem, run_notebook
from partita_workbench.notebooks.kernels import choose_kernel
from partita_workbench.notebooks.parameters import NotebookParameter, find_parameters_cell, parse_parameters

__all__ = ["execute_notebook", "notebook_task", "notebook_flow"]


def execute_notebook(
    path: str,
    parameters: dict[str, Any] | None = None,
    kernel_name: str | None = None,
    cwd: str | None = None,
    output_path: str | None = None,
    timeout: float | None = None,
    fallback_kernel: str | None = None,
) -> str:
    """Task function: run a notebook with papermill; the result is the executed notebook's path.

    See :func:`partita_workbench.notebooks.execute.run_notebook` for the
    arguments and errors.
    """
    return run_notebook(path, parameters, kernel_name=kernel_name, cwd=cwd, output_path=output_path,
                        timeout=timeout, fallback_kernel=fallback_kernel)


notebook_task: Task = Task(
    execute_notebook,
    name="notebook",
    persist_result=True,
    result_serializer="json",
    description="Run a Jupyter notebook with papermill; the result is the executed notebook's path.",
)
"""The notebook task; give it a name per use with ``notebook_task.with_options(name=...)``.

Its result (the executed notebook's path or URL) is stored as JSON, so a client
that must not unpickle — the JupyterLab front end — reads it from the result
store and then fetches the notebook itself (``GET /api/results/{key}`` when
the result storage is the server's, ``PARTITA_RESULT_STORAGE=server``)."""


def _annotation(param: NotebookParameter) -> Any:
    if param.annotation is None:
        return inspect.Parameter.empty
    return Optional[param.annotation] if param.nullable else param.annotation


def notebook_flow(
    path: str | Path,
    parameters: dict[str, Any] | None = None,
    *,
    kernel_name: str | None = None,
    fallback_kernel: str | None = None,
    cwd: str | Path | None = None,
    output_path: str | None = None,
    timeout: float | None = None,
) -> Flow:
    """A flow of one task that runs the notebook, named after the notebook's file stem.

    The flow's parameters are the notebook's (its ``parameters`` cell, read
    with :func:`partita_workbench.notebooks.parameters.notebook_parameters`):
    the cell's annotation or literal default gives the flow parameter's type
    (``n = 3`` → ``n: int = 3``; ``rate: float = 1`` → ``rate: float = 1``;
    ``label = None`` or ``label: str | None = None`` → optional); a
    non-literal default gives an untyped parameter defaulting to ``None``.
    At run time every parameter whose value is not ``None`` is injected, so an
    unset non-literal parameter keeps the notebook's own expression. So
    undeclared parameters and mismatched types fail when the flow is called,
    before any kernel starts, with the list of the declared parameters.

    A notebook with no ``parameters`` cell takes any parameters (papermill
    injects them in a new cell at the top, with a warning).

    Args:
        path: the notebook (local path or fsspec URL).
        parameters: defaults that replace the notebook's own (e.g. from a
            parameters file); names the notebook does not declare are added
            as untyped parameters.
        kernel_name: kernel to use instead of the notebook's kernelspec.
        fallback_kernel: kernel to use when the chosen one is not installed.
        cwd: working directory of the kernel; default the notebook's folder.
        output_path: where the executed notebook goes; default
            ``<storage>/runs/<flow run id>/<task run name>.ipynb``.
        timeout: seconds each cell may run (default: no limit).

    Returns:
        A :class:`partita.Flow` whose return value is the executed notebook's
        path or URL.

    Raises:
        partita.exceptions.InvalidTarget: the notebook is missing or unreadable.
        KernelNotFound: its kernel is not installed and no fallback is configured.
    """
    url = str(path)
    local = fsspec.utils.get_protocol(url) == "file"
    if local:
        url = str(Path(fsspec.core.url_to_fs(url)[1]).expanduser().resolve())
    notebook = _read_source(url)
    stem = _stem(url)
    choose_kernel(notebook, kernel_name, fallback_kernel)  # a missing kernel fails here, before any run is recorded
    index = find_parameters_cell(notebook)
    declared = [] if index is None else parse_parameters(notebook.cells[index].source)
    overrides = dict(parameters or {})
    signature_params = []
    for param in declared:
        default = overrides.pop(param.name, param.default)
        annotation = _annotation(param)
        if default is not None and param.annotation is not None and not isinstance(default, param.annotation):
            annotation = inspect.Parameter.empty  # an override of another type: leave it untyped
        signature_params.append(inspect.Parameter(param.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation))
    for name, default in overrides.items():
        signature_params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default))
    if index is None:  # papermill's behaviour: anything goes, injected at the top
        signature_params.append(inspect.Parameter("parameters", inspect.Parameter.VAR_KEYWORD))

    task = notebook_task.with_options(name=stem)
    cwd_text = str(cwd) if cwd is not None else None

    def run(**values: Any) -> str:
        injected = {name: value for name, value in values.items() if value is not None}
        return task(url, injected, kernel_name, cwd_text, output_path, timeout, fallback_kernel)

    run.__name__ = run.__qualname__ = re.sub(r"\W", "_", stem)
    run.__doc__ = f"Run notebook {stem}.ipynb with papermill."
    run.__signature__ = inspect.Signature(signature_params)  # type: ignore[attr-defined]
    return Flow(run, name=stem, description=run.__doc__)
