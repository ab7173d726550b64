"""The graph document of a ``@flow`` function, by static analysis of its source (``ast``).

Nothing is imported or run. The file's ``@task`` functions (bare ``@task``,
``@task(...)``, ``@partita.task``, and ``name = some_task.with_options(...)``)
are the tasks; walking the flow function's body in source order, each call
of one (``t(...)``, ``t.submit(...)``, ``t.map(...)``) is a node, named as its
task runs would be (the task's ``name=`` or function name; ``name-1``,
``name-2`` for later calls). An edge ``a → b`` exists when a call of ``b``
is given, as an argument, a variable assigned from a call of ``a`` (or the
call itself), or lists it in ``wait_for=``. Calls inside loops and branches
count once each, where they are written.

The flow's parameters come from its signature: annotations give JSON Schema
types, literal defaults their values.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from partita.exceptions import InvalidTarget

__all__ = ["python_graph_document"]

_TYPES: dict[str, dict[str, str]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "list": {"type": "array"},
    "tuple": {"type": "array"},
    "dict": {"type": "object"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
}


def _decorator_name(node: ast.expr) -> tuple[str | None, ast.Call | None]:
    """``("task", call)`` for ``@task(...)``, ``("task", None)`` for ``@task`` / ``@partita.task``."""
    call = node if isinstance(node, ast.Call) else None
    target = call.func if call is not None else node
    if isinstance(target, ast.Name):
        return target.id, call
    if isinstance(target, ast.Attribute):
        return target.attr, call
    return None, call


def _keyword(call: ast.Call | None, name: str) -> Any:
    for kw in call.keywords if call is not None else []:
        if kw.arg == name and isinstance(kw.value, ast.Constant):
            return kw.value.value
    return None


def _argument_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, ...]:
    return tuple(a.arg for a in [*function.args.posonlyargs, *function.args.args])


class _Tasks:
    """The module's task definitions: variable name → (task name, definition line, column, positional parameter names)."""

    def __init__(self, module: ast.Module) -> None:
        self.found: dict[str, tuple[str, int, int, tuple[str, ...]]] = {}
        functions = {n.name: n for n in module.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        self.functions = functions
        for node in module.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for decorator in node.decorator_list:
                    name, call = _decorator_name(decorator)
                    if name == "task":
                        self.found[node.name] = (
                            _keyword(call, "name") or node.name, node.lineno, node.col_offset + 1, _argument_names(node)
                        )
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                self._assigned(node)

    def _assigned(self, node: ast.Assign) -> None:
        call = node.value
        assert isinstance(call, ast.Call)
        targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        func = call.func
        base: tuple[str, int, int, tuple[str, ...]] | None = None
        if isinstance(func, ast.Attribute) and func.attr == "with_options" and isinstance(func.value, ast.Name):
            base = self.found.get(func.value.id)
        elif isinstance(func, ast.Name) and func.id == "task" and call.args and isinstance(call.args[0], ast.Name):
            wrapped = self.functions.get(call.args[0].id)
            base = (call.args[0].id, node.lineno, node.col_offset + 1, _argument_names(wrapped) if wrapped else ())
        if base is not None:
            name = _keyword(call, "name") or base[0]
            for target in targets:
                self.found[target] = (name, node.lineno, node.col_offset + 1, base[3])


class _FlowBody(ast.NodeVisitor):
    """Walks a flow function's body, collecting task calls and what flows between them.

    An ``argument`` via is named after the task's parameter it fills; a
    ``needs`` via (``wait_for=``) after the variable or task waited for.
    """

    def __init__(self, tasks: _Tasks, path: str) -> None:
        self.tasks = tasks
        self.path = path
        self.nodes: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {}
        self.produced: dict[str, str] = {}  # variable → node name
        self.vias: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def statements(self, statements: list[ast.stmt]) -> None:
        """Visit statements in source order, entering loops, branches, ``with`` and ``try`` blocks."""
        for statement in statements:
            if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr)):
                self.visit(statement)
            elif isinstance(statement, ast.Return) and statement.value is not None:
                self._value(statement.value)
            elif isinstance(statement, (ast.For, ast.AsyncFor)):
                self._bind(statement.target, self._value(statement.iter))
                self.statements(statement.body)
                self.statements(statement.orelse)
            elif isinstance(statement, (ast.If, ast.While)):
                self._value(statement.test)
                self.statements(statement.body)
                self.statements(statement.orelse)
            elif isinstance(statement, (ast.With, ast.AsyncWith)):
                for item in statement.items:
                    bound = self._value(item.context_expr)
                    if item.optional_vars is not None:
                        self._bind(item.optional_vars, bound)
                self.statements(statement.body)
            elif isinstance(statement, ast.Try):
                self.statements(statement.body)
                for handler in statement.handlers:
                    self.statements(handler.body)
                self.statements(statement.orelse)
                self.statements(statement.finalbody)

    def _task_of(self, call: ast.Call) -> str | None:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in ("submit", "map") and isinstance(func.value, ast.Name):
            func = func.value
        if isinstance(func, ast.Name) and func.id in self.tasks.found:
            return func.id
        return None

    def visit_Assign(self, node: ast.Assign) -> None:
        node_name = self._value(node.value)
        for target in node.targets:
            self._bind(target, node_name)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._bind(node.target, self._value(node.value))

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._value(node.value)

    def visit_Expr(self, node: ast.Expr) -> None:
        self._value(node.value)

    def _bind(self, target: ast.expr, node_name: str | None) -> None:
        names = [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
        for name in names:
            if node_name is None:
                self.produced.pop(name, None)
            else:
                self.produced[name] = node_name

    def _value(self, expr: ast.expr) -> str | None:
        """Visit an expression; the node name when it is a task call, else ``None``."""
        if isinstance(expr, ast.Await):
            return self._value(expr.value)
        if isinstance(expr, ast.Call) and (variable := self._task_of(expr)) is not None:
            return self._call(expr, variable)
        for child in ast.iter_child_nodes(expr):
            if isinstance(child, ast.expr):
                self._value(child)
        return None

    def _call(self, call: ast.Call, variable: str) -> str:
        task_name, line, column, parameters = self.tasks.found[variable]
        upstream: list[tuple[str, dict[str, Any]]] = []
        for position, arg in enumerate(call.args):
            label = parameters[position] if position < len(parameters) else f"argument {position + 1}"
            upstream += self._sources(arg, label, "argument")
        for kw in call.keywords:
            kind = "needs" if kw.arg == "wait_for" else "argument"
            upstream += self._sources(kw.value, kw.arg or "**", kind)
        count = self.counts.get(task_name, 0)
        self.counts[task_name] = count + 1
        name = task_name if count == 0 else f"{task_name}-{count}"
        self.nodes.append({"name": name, "kind": "python", "location": {"path": self.path, "line": line, "column": column, "cell": None}})
        for source, via in upstream:
            if source != name and via not in self.vias.setdefault((source, name), []):
                self.vias[(source, name)].append(via)
        return name

    def _sources(self, expr: ast.expr, label: str, kind: str) -> list[tuple[str, dict[str, Any]]]:
        """Upstream nodes an argument carries: variables bound to task calls, and task calls inside it."""
        found: list[tuple[str, dict[str, Any]]] = []
        if isinstance(expr, ast.Call) and (variable := self._task_of(expr)) is not None:
            inner = self._call(expr, variable)
            return [(inner, {"kind": kind, "name": inner if kind == "needs" else label, "line": expr.lineno, "cell": None})]
        if isinstance(expr, ast.Name):
            source = self.produced.get(expr.id)
            name = expr.id if kind == "needs" else label
            return [(source, {"kind": kind, "name": name, "line": expr.lineno, "cell": None})] if source else []
        for child in ast.iter_child_nodes(expr):
            if isinstance(child, ast.expr):
                found += self._sources(child, label, kind)
        return found


def _flow_function(module: ast.Module, flow_name: str, target: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    for node in module.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == flow_name:
            if any(_decorator_name(d)[0] == "flow" for d in node.decorator_list):
                return node
            raise InvalidTarget(f"{target}: '{flow_name}' is not decorated with @flow")
    flows = [n.name for n in module.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
             and any(_decorator_name(d)[0] == "flow" for d in n.decorator_list)]
    hint = f"; its flows are {', '.join(flows)}" if flows else "; it has no @flow function"
    raise InvalidTarget(f"{target}: no function '{flow_name}' in {target.rsplit(':', 1)[0]}{hint}")


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, dict[str, Any]]:
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    defaults: dict[str, ast.expr] = dict(zip([a.arg for a in positional[len(positional) - len(args.defaults):]], args.defaults))
    defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
    out: dict[str, dict[str, Any]] = {}
    for arg in [*positional, *args.kwonlyargs]:
        entry: dict[str, Any] = {}
        annotation = arg.annotation
        if annotation is not None:
            text = ast.unparse(annotation).replace("typing.", "").split("[", 1)[0].split("|", 1)[0].strip()
            entry.update(_TYPES.get(text.rsplit(".", 1)[-1], {}))
        if arg.arg in defaults:
            try:
                entry["default"] = ast.literal_eval(defaults[arg.arg])
            except ValueError:
                entry["default"] = ast.unparse(defaults[arg.arg])
        out[arg.arg] = entry
    return out


def python_graph_document(path: str | Path, flow_name: str, source: str | None = None) -> dict[str, Any]:
    """The graph document of the ``@flow`` function ``flow_name`` in ``path``, without running anything.

    Args:
        path: the Python file.
        flow_name: the flow function's name (the ``NAME`` of ``file.py:NAME``).
        source: the path to show (default: ``path`` as given).

    Returns:
        A dict in the form of :class:`partita_workbench.graphs.GraphDocument`,
        named by the decorator's ``name=`` or the function's name.

    Raises:
        partita.exceptions.InvalidTarget: the file is missing or does not
            parse, or has no such ``@flow`` function.
    """
    file = Path(path)
    target = f"{path}:{flow_name}"
    try:
        module = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
    except OSError as exc:
        raise InvalidTarget(f"{target}: cannot read {path}: {exc.strerror or exc}") from exc
    except SyntaxError as exc:
        raise InvalidTarget(f"{path}:{exc.lineno}:{(exc.offset or 1)}: invalid Python: {exc.msg}") from exc
    function = _flow_function(module, flow_name, target)
    name = flow_name
    for decorator in function.decorator_list:
        decorator_name, call = _decorator_name(decorator)
        if decorator_name == "flow":
            name = _keyword(call, "name") or flow_name
    body = _FlowBody(_Tasks(module), source or str(path))
    body.statements(function.body)
    edges = [{"from": a, "to": b, "via": v} for (a, b), v in sorted(body.vias.items())]
    return {
        "name": name,
        "kind": "python",
        "source": source or str(path),
        "parameters": _parameters(function),
        "tasks": body.nodes,
        "edges": edges,
    }
