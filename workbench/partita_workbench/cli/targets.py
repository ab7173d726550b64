"""Turning a ``partita run`` target into a :class:`partita.Flow`.

A target is a pipeline YAML file (``.yaml``/``.yml``; a Partita pipeline or a
Ploomber ``pipeline.yaml``), a notebook (``.ipynb``), or ``path/to/file.py:flow_name``.
"""

from __future__ import annotations

import inspect
import json
import typing
from pathlib import Path
from typing import Any

from partita.exceptions import InvalidTarget
from partita.flows import Flow

YAML_SUFFIXES = (".yaml", ".yml")
_NOTEBOOK_FLAGS = {"kernel_name": "--kernel", "cwd": "--cwd", "timeout": "--cell-timeout", "output_path": "--output", "kernels": "--kernels"}


NOTEBOOK_MODES = ("cells", "papermill")


def load_target(
    target: str,
    mode: str | None = None,
    *,
    refresh: bool | list[str] = False,
    notebook_options: dict[str, Any] | None = None,
) -> Flow:
    """The flow a target names.

    Args:
        target: ``pipeline.yaml``, ``notebook.ipynb`` or ``file.py:flow_name``.
        mode: for a notebook, ``cells`` (each task cell a task,
            :func:`partita_workbench.notebooks.cells.cells_flow`) or
            ``papermill`` (the whole notebook as one task); ``None`` chooses
            ``cells`` when a cell is tagged ``task:NAME`` (or starts with
            ``# task: NAME``), else ``papermill``.
        refresh: for a pipeline, ``True`` or task keys to run again instead
            of taking them from the cache (see :func:`~partita_workbench.pipelines.compile_pipeline`).
        notebook_options: for a notebook in papermill mode, keyword arguments
            of :func:`~partita_workbench.notebooks.notebook_flow`
            (``kernel_name``, ``cwd``, ``timeout``, ``output_path``); in
            cells mode only ``kernels`` (of
            :func:`~partita_workbench.notebooks.cells.cells_flow`).

    Raises:
        partita.exceptions.InvalidTarget: missing file, unknown kind, a name
            that is not a ``@flow``, or notebook options for another target.
        partita.exceptions.ValidationError: an invalid pipeline (every problem
            as ``path:line:col: message``).
        partita_workbench.notebooks.kernels.KernelNotFound: the notebook's
            kernel (or ``kernel``) is not installed; checked before any run.
    """
    if notebook_options and not target.endswith(".ipynb"):
        flags = ", ".join(sorted(_NOTEBOOK_FLAGS[k] for k in notebook_options))
        raise InvalidTarget(f"{target}: {flags} apply to notebooks (.ipynb) only")
    if mode is not None and mode not in NOTEBOOK_MODES:
        raise InvalidTarget(f"--mode {mode!r}: use one of {', '.join(NOTEBOOK_MODES)}")
    if mode is not None and not target.endswith(".ipynb"):
        raise InvalidTarget(f"{target}: --mode applies to notebooks (.ipynb) only")
    path_part, _, attr = target.rpartition(":") if target.count(":") and target.rsplit(":", 1)[0].endswith(".py") else (target, "", "")
    if attr:
        return _python_flow(path_part, attr, target)
    path = Path(target)
    if not path.exists():
        raise InvalidTarget(f"{target}: no such file; give a pipeline .yaml, a notebook .ipynb or file.py:flow_name")
    if path.suffix in YAML_SUFFIXES:
        from partita_workbench.pipelines.ploomber import is_ploomber_file

        if is_ploomber_file(path):
            # the Ploomber compiler imports papermill; a Partita pipeline needs it only when a notebook runs
            from partita_workbench.pipelines.ploomber import compile_ploomber, load_ploomber

            return compile_ploomber(load_ploomber(path), refresh=refresh)
        from partita_workbench.pipelines import compile_pipeline, load_pipeline

        return compile_pipeline(load_pipeline(path), refresh=refresh)
    if path.suffix == ".ipynb":
        from partita_workbench.notebooks.cells import has_task_cells

        options = dict(notebook_options or {})
        kernels = options.pop("kernels", None)
        if mode == "cells" or (mode is None and has_task_cells(path)):
            if options:
                names = sorted(_NOTEBOOK_FLAGS[k] for k in options)
                verb, them = ("apply", "them") if len(names) > 1 else ("applies", "it")
                flags = ", ".join(names)
                raise InvalidTarget(f"{target}: {flags} {verb} to papermill mode; in cells mode each task runs on a kernel of the run's pool, without papermill (add --mode papermill to use {them})")
            from partita_workbench.notebooks.cells import cells_flow

            return cells_flow(path, kernels=kernels)
        if kernels is not None:
            raise InvalidTarget(f"{target}: --kernels applies to cells mode (a notebook with task:NAME cells, or --mode cells); papermill mode runs one kernel")
        from partita_workbench.notebooks import notebook_flow

        return notebook_flow(path, **options)
    if path.suffix == ".py":
        raise InvalidTarget(f"{target}: name the flow to run, as {target}:flow_name")
    raise InvalidTarget(f"{target}: unknown kind of target; give a pipeline .yaml, a notebook .ipynb or file.py:flow_name")


def _python_flow(path: str, attr: str, target: str) -> Flow:
    from partita_workbench.pipelines.targets import resolve_callable

    file = Path(path)
    if not file.is_file():
        raise InvalidTarget(f"{target}: no such file {path!r}")
    obj = resolve_callable(f"{file.resolve()}:{attr}", file.resolve().parent, kind="flow")
    if not isinstance(obj, Flow):
        raise InvalidTarget(f"{target}: {attr!r} is a {type(obj).__name__}, not a flow; decorate it with @flow")
    return obj


def _wants_string(param: inspect.Parameter | None) -> bool:
    """A ``str`` or ``str | None`` parameter, or an unannotated one with a string default."""
    if param is None:
        return False
    annotation = param.annotation
    if annotation is inspect.Parameter.empty:
        return isinstance(param.default, str)
    return annotation is str or (str in typing.get_args(annotation) and not ({int, float, bool} & set(typing.get_args(annotation))))


def parse_parameters(flow: Flow, pairs: list[str]) -> dict[str, Any]:
    """``-p key=value`` options → parameters.

    A value is kept as a string for a ``str`` parameter; otherwise it is read
    as JSON when it parses (``3``, ``0.75``, ``true``, ``[1, 2]``) and kept as
    a string when not. The flow's pydantic validation then coerces it.

    Raises:
        partita.exceptions.InvalidTarget: a pair without ``=``, or a parameter given twice.
    """
    parameters: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise InvalidTarget(f"-p {pair!r}: write parameters as key=value")
        if key in parameters:
            raise InvalidTarget(f"-p {pair!r}: parameter {key!r} is given twice; give each parameter once")
        if _wants_string(flow.signature.parameters.get(key)):
            parameters[key] = raw
            continue
        try:
            parameters[key] = json.loads(raw, parse_constant=_no_constant)
        except _NotJSON as exc:
            raise InvalidTarget(f"-p {pair!r}: {exc} cannot be a parameter value (parameters are stored as JSON); give a finite number") from None
        except ValueError:
            parameters[key] = raw
    return parameters


class _NotJSON(Exception):
    """``NaN``, ``Infinity`` or ``-Infinity``: Python's json reads them, JSON cannot hold them."""


def _no_constant(name: str) -> Any:
    raise _NotJSON(name)
