"""Finding the Python callable of a ``python:`` task.

Two spellings are accepted:

* ``"package.module:function"`` — imported with the pipeline's folder first on
  ``sys.path`` (so a ``tasks.py`` next to ``pipeline.yaml`` is ``tasks:fn``);
* ``"path/to/file.py:function"`` — a file relative to the pipeline's folder,
  loaded under a module name derived from its absolute path.

``function`` may be a dotted attribute path (``module:Class.method``).

The same lookup finds the flow of ``partita run path/to/file.py:flow_name``
(which passes the file's absolute path); a missing name is then reported as a
missing flow, with the flows the file defines.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from partita.exceptions import InvalidTarget

from partita_workbench.pipelines.suggest import did_you_mean

__all__ = ["resolve_callable", "add_to_sys_path"]


def add_to_sys_path(folder: Path) -> None:
    """Put ``folder`` first on ``sys.path`` (moving it there if already present)."""
    entry = str(folder)
    if entry in sys.path:
        sys.path.remove(entry)
    sys.path.insert(0, entry)


def _forget_shadowed(module_name: str, folder: Path) -> None:
    """Drop a cached top-level module that comes from somewhere other than ``folder``.

    Two pipelines in different folders may each have a ``tasks.py``; Python
    caches the first one imported as ``sys.modules["tasks"]``. When ``folder``
    holds its own ``<top>.py`` or ``<top>/`` package, the cached module and its
    submodules are forgotten so the import finds this pipeline's file.
    """
    top = module_name.split(".", 1)[0]
    if not ((folder / f"{top}.py").is_file() or (folder / top / "__init__.py").is_file()):
        return
    cached = sys.modules.get(top)
    origin = getattr(cached, "__file__", None)
    if cached is None or (origin is not None and Path(origin).resolve().is_relative_to(folder.resolve())):
        return
    for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
        del sys.modules[name]


def _load_file(path: Path) -> ModuleType:
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
    name = f"_partita_pipeline_{path.stem}_{digest}"
    cached = sys.modules.get(name)
    if cached is not None:
        return cached
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InvalidTarget(f"cannot load '{path}' as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


_RESOLVED: dict[tuple[str, str], Callable[..., Any]] = {}


def resolve_callable(reference: str, folder: Path, *, kind: str = "function") -> Callable[..., Any]:
    """Import the callable named by a ``python:`` value (remembered per reference and folder).

    A module is imported once per process (Python's own rule); so the
    callable found for ``(reference, folder)`` is remembered too, which makes
    validating and compiling a pipeline with many tasks on one module cheap.

    Args:
        reference: ``"module:function"`` or ``"file.py:function"``.
        folder: the pipeline's folder; put first on ``sys.path`` and used to
            resolve relative file paths.
        kind: what is looked for, ``"function"`` or ``"flow"``; it words
            the error for a missing name (a missing flow lists the flows of
            the module); default ``"function"``.

    Returns:
        The callable object.

    Raises:
        partita.exceptions.InvalidTarget: malformed reference, missing file,
            module that fails to import (the message carries the import
            error), missing attribute or an attribute that is not callable.
    """
    remembered = _RESOLVED.get((reference, str(folder)))
    if remembered is not None:
        return remembered
    target = _resolve(reference, folder, kind)
    _RESOLVED[(reference, str(folder))] = target
    return target


def _resolve(reference: str, folder: Path, kind: str) -> Callable[..., Any]:
    module_part, sep, attr_path = reference.partition(":")
    if not sep or not module_part.strip() or not attr_path.strip():
        raise InvalidTarget(
            f"python task target '{reference}' must be 'module:function' or 'file.py:function'"
        )
    module_part, attr_path = module_part.strip(), attr_path.strip()
    folder = folder.resolve()
    try:
        if module_part.endswith(".py"):
            path = (folder / module_part).resolve()
            if not path.is_file():
                raise InvalidTarget(f"python file '{module_part}' not found (looked for {path})")
            add_to_sys_path(folder)
            module = _load_file(path)
        else:
            add_to_sys_path(folder)
            _forget_shadowed(module_part, folder)
            module = importlib.import_module(module_part)
    except InvalidTarget:
        raise
    except Exception as exc:
        raise InvalidTarget(
            f"cannot import '{module_part}': {type(exc).__name__}: {exc}"
        ) from exc

    target: Any = module
    for attr in attr_path.split("."):
        try:
            target = getattr(target, attr)
        except AttributeError:
            if kind == "flow" and target is module:
                raise InvalidTarget(_no_flow(module_part, attr_path, module)) from None
            names = [n for n in dir(target) if not n.startswith("_")]
            hint = did_you_mean(attr, names)
            raise InvalidTarget(f"'{module_part}' has no attribute '{attr_path}'{hint}") from None
    if not callable(target):
        raise InvalidTarget(f"'{reference}' is not callable (it is a {type(target).__name__})")
    return target


def _no_flow(module_part: str, name: str, module: ModuleType) -> str:
    """``'file.py' has no flow 'name'``, with a did-you-mean and the flows the module holds."""
    from partita.flows import Flow

    flows = sorted(n for n, value in vars(module).items() if not n.startswith("_") and isinstance(value, Flow))
    if not flows:
        return f"'{module_part}' has no flow '{name}' and defines no flows; decorate a function in it with @flow"
    return f"'{module_part}' has no flow '{name}'; flows in it: {', '.join(flows)}{did_you_mean(name, flows)}"
