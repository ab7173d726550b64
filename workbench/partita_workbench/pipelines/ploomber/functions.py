"""Ploomber's function tasks (``PythonCallable``): ``source: my_module.my_function``.

As Ploomber's Spec API documents them: the dotted path is imported (the
``pipeline.yaml`` folder first on ``sys.path``), the function is called with
``product`` (a path, or ``{key: path}``), ``upstream`` (``{task: product}``,
when the task has upstream tasks) and its ``params`` as keyword arguments, and
writes its products itself. With ``meta.extract_upstream`` (the default) the
upstream tasks are the string keys the function's body reads from
``upstream`` (``upstream["clean"]``).
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from partita.exceptions import InvalidTarget

from partita_workbench.pipelines.ploomber.sources import SourceProblem
from partita_workbench.pipelines.targets import resolve_callable

__all__ = ["FunctionSource", "read_function", "call_function"]


@dataclass(frozen=True)
class FunctionSource:
    """A function task's source.

    Attributes:
        path: the module's file.
        text: the function's source code (what the cache key hashes).
        function: the function.
        upstream: task names its body reads from ``upstream[...]``, in order.
        upstream_position: 1-based ``(line, column)`` of the first such read
            in ``path`` (of the ``def`` without any).
    """

    path: Path
    text: str
    function: Callable[..., Any]
    upstream: tuple[str, ...]
    upstream_position: tuple[int, int]
    parameters_cell: None = None
    is_script: bool = False


def read_function(dotted: str, folder: Path) -> FunctionSource:
    """Import ``package.module.function`` and read its upstream declarations.

    Raises:
        SourceProblem: the module does not import, has no such function, or
            its source cannot be read (the position is ``1:1`` of the module).
    """
    module, _, name = dotted.rpartition(".")
    try:
        function = resolve_callable(f"{module}:{name}", folder)
    except InvalidTarget as exc:
        raise SourceProblem(folder / "pipeline.yaml", (1, 1), f"function '{dotted}': {exc}") from None
    path = Path(inspect.getsourcefile(function) or folder)
    try:
        lines, first = inspect.getsourcelines(function)
    except (OSError, TypeError) as exc:
        raise SourceProblem(path, (1, 1), f"cannot read the source of '{dotted}': {exc}") from None
    text = "".join(lines)
    upstream, position = _upstream_reads(textwrap.dedent(text), first)
    return FunctionSource(path=path, text=text, function=function, upstream=upstream, upstream_position=position)


def _upstream_reads(text: str, first_line: int) -> tuple[tuple[str, ...], tuple[int, int]]:
    reads = sorted(
        (node.lineno, node.col_offset, node.slice.value)
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == "upstream"
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
    )
    if not reads:
        return (), (first_line, 1)
    line, column, _ = reads[0]
    return tuple(dict.fromkeys(name for _, _, name in reads)), (first_line + line - 1, column + 1)


def call_function(source: FunctionSource, product: Any, upstream: dict[str, Any], params: dict[str, Any]) -> None:
    """Call the function as Ploomber does: ``product``, ``upstream`` (when there is any) and ``params``."""
    kwargs = {"product": product, **params}
    if upstream:
        kwargs["upstream"] = upstream
    source.function(**kwargs)
