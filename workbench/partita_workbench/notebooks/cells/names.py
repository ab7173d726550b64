"""The names one code cell reads and defines, from Python's :mod:`ast`.

IPython syntax is first turned into plain Python by IPython's own input
transformers (``IPython.core.inputtransformer2.TransformerManager``, the
code path a kernel uses before compiling a cell): ``%magic args`` becomes
``get_ipython().run_line_magic(...)``, ``!cmd`` becomes
``get_ipython().system(...)`` and ``x = !cmd`` an assignment of
``get_ipython().getoutput(...)``. Magics are therefore invisible to the
analysis (they run at execution time), except those whose argument is Python
code (``%time``, ``%timeit``, ``%%time``, ``%%capture``...): their code is
analysed in place, as the kernel would run it.

The result is an ordered list of :class:`Event` in evaluation order, which
the notebook analysis (:mod:`.analysis`) replays task by task:

* ``read``: a name's value is used;
* ``define``: a name is bound (assignment, import, ``def``, ``class``, ``for``,
  ``with ... as``, ``except ... as``, ``del``, augmented assignment);
* ``mutate``: the value bound to a name is changed in place: item or
  attribute assignment (``df["x"] = ...``, ``obj.a = ...``), ``del x[...]``,
  or a method call whose result is discarded (``items.append(3)``) or that
  passes ``inplace=True``; it reads the old value and counts as a new
  definition. A method call used for its result (``totals = df.sum()``) is
  only a read: counting every call as a mutation would chain every task
  that touches a data frame into one line.

Functions and classes carry the global names their bodies read
(:attr:`Event.deferred`): those are read when the function is *called*,
which the analysis accounts for at each read of the function's name.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = ["Event", "CellNames", "analyse_cell", "python_source", "IPYTHON_NAMES", "BUILTIN_NAMES"]

BUILTIN_NAMES = frozenset(dir(builtins))
IPYTHON_NAMES = frozenset(
    {"get_ipython", "display", "In", "Out", "_", "__", "___", "_i", "_ii", "_iii", "_ih", "_oh", "_dh",
     "exit", "quit", "__name__", "__doc__", "__builtins__", "__file__", "__session__"}
)
"""Names every IPython kernel namespace holds (``InteractiveShell.init_user_ns``)."""

# Magics whose argument (line magics) or body (cell magics) is Python code run in the user namespace.
_PYTHON_LINE_MAGICS = frozenset({"time", "timeit", "prun"})
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "prun", "capture"})


@dataclass(frozen=True)
class Event:
    """One use of a name, in evaluation order.

    Attributes:
        action: ``read``, ``define`` or ``mutate``.
        name: the variable.
        line: 1-based line in the cell.
        column: 1-based column in the cell.
        how: for ``define``: ``assign``, ``import``, ``def``, ``class``,
            ``augmented``, ``del``, ``loop``, ``with``, ``except``, ``match``,
            ``magic``; for ``mutate``: ``item``, ``attribute``, ``del``,
            ``method``.
        deferred: for a ``def``/``class`` definition, the global names its
            body reads when called.
    """

    action: str
    name: str
    line: int
    column: int
    how: str = ""
    deferred: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CellNames:
    """What one code cell does with names.

    Attributes:
        events: reads and definitions in evaluation order.
        star_imports: ``(module, line)`` of each ``from module import *``.
        syntax_error: ``(message, line, column)`` when the cell does not parse.
        is_setup: the cell only imports, defines functions or classes,
            assigns constants (literals and expressions of them), runs magics
            or configures imported modules (``pd.set_option(...)``).
        has_code: the cell holds at least one statement.
    """

    events: tuple[Event, ...] = ()
    star_imports: tuple[tuple[str, int], ...] = ()
    syntax_error: tuple[str, int, int] | None = None
    is_setup: bool = True
    has_code: bool = False
    imported: frozenset[str] = field(default_factory=frozenset)


@lru_cache(maxsize=1)
def _transformer():
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()


def python_source(source: str) -> str:
    """The cell's source with IPython syntax turned into Python (same line numbers).

    Falls back to the source itself when IPython cannot transform it (the
    syntax error is then reported by :func:`analyse_cell`).
    """
    try:
        return _transformer().transform_cell(source)
    except Exception:  # IPython raises several kinds on malformed input
        return source


def analyse_cell(source: str) -> CellNames:
    """Analyse one code cell's source (IPython syntax allowed).

    Returns:
        The cell's :class:`CellNames`; a cell that does not parse gives one
        with ``syntax_error`` set and no events.
    """
    code = python_source(source)
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return CellNames(syntax_error=(exc.msg, exc.lineno or 1, exc.offset or 1), is_setup=False, has_code=True)
    visitor = _Visitor()
    for statement in tree.body:
        visitor.statement(statement)
    imported = frozenset(e.name for e in visitor.events if e.action == "define" and e.how == "import")
    return CellNames(
        events=tuple(visitor.events),
        star_imports=tuple(visitor.star_imports),
        is_setup=all(_is_setup_statement(s, imported) for s in tree.body),
        has_code=bool(tree.body),
        imported=imported,
    )


# -- setup cells -------------------------------------------------------------------------------


def _is_constant_expression(node: ast.AST) -> bool:
    """Literals, names, attributes and operators, with no call: ``10 * 2``, ``BASE + "/x"``."""
    allowed = (ast.Constant, ast.Name, ast.Load, ast.Attribute, ast.BinOp, ast.UnaryOp, ast.BoolOp,
               ast.Compare, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.JoinedStr, ast.FormattedValue,
               ast.operator, ast.unaryop, ast.boolop, ast.cmpop, ast.Subscript, ast.Slice, ast.Starred)
    return all(isinstance(n, allowed) for n in ast.walk(node))


def _is_magic_call(node: ast.AST) -> bool:
    """``get_ipython().run_line_magic(...)`` / ``run_cell_magic(...)`` (a transformed magic)."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("run_line_magic", "run_cell_magic")
        and isinstance(node.func.value, ast.Call)
        and isinstance(node.func.value.func, ast.Name)
        and node.func.value.func.id == "get_ipython"
    )


def _root_name(node: ast.AST) -> str | None:
    """``x`` for ``x``, ``x.a``, ``x[0].b``, ``x.a(...)...``; ``None`` otherwise."""
    while True:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            return None


def _is_setup_statement(node: ast.stmt, imported: frozenset[str]) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Pass)):
        return True
    if isinstance(node, ast.Assign):
        return all(isinstance(t, ast.Name) for t in node.targets) and _is_constant_expression(node.value)
    if isinstance(node, ast.AnnAssign):
        return isinstance(node.target, ast.Name) and (node.value is None or _is_constant_expression(node.value))
    if isinstance(node, ast.Expr):
        value = node.value
        if isinstance(value, ast.Constant) or _is_magic_call(value):
            return True
        # configuring an imported module: pd.set_option(...), warnings.filterwarnings(...)
        return isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and _root_name(value.func) in imported
    if isinstance(node, ast.If):
        return all(_is_setup_statement(s, imported) for s in [*node.body, *node.orelse])
    if isinstance(node, ast.Try):
        parts = [*node.body, *node.orelse, *node.finalbody, *(s for h in node.handlers for s in h.body)]
        return all(_is_setup_statement(s, imported) for s in parts)
    return False


# -- free names of function bodies ---------------------------------------------------------------


def _bound_inside(node: ast.AST) -> set[str]:
    bound: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            bound.add(n.id)
        elif isinstance(n, ast.arg):
            bound.add(n.arg)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n is not node:
            bound.add(n.name)
        elif isinstance(n, ast.alias):
            bound.add((n.asname or n.name).split(".")[0])
        elif isinstance(n, ast.ExceptHandler) and n.name:
            bound.add(n.name)
        elif isinstance(n, (ast.MatchAs, ast.MatchStar)) and n.name:
            bound.add(n.name)
        elif isinstance(n, ast.MatchMapping) and n.rest:
            bound.add(n.rest)
    return bound


def _free_names(nodes: list[ast.AST], scope: ast.AST | None = None) -> frozenset[str]:
    """Global names read inside ``nodes`` (a function body, a lambda, a comprehension).

    An approximation of the compiler's symbol table: names loaded anywhere
    inside, minus names bound inside (``global x`` keeps ``x`` global).
    """
    loads: set[str] = set()
    bound: set[str] = set()
    declared_global: set[str] = set()
    for node in nodes:
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                loads.add(n.id)
            elif isinstance(n, ast.Global):
                declared_global.update(n.names)
        bound |= _bound_inside(node)
    if scope is not None:
        bound |= _bound_inside(scope.args) if hasattr(scope, "args") and isinstance(scope.args, ast.arguments) else set()
    return frozenset((loads | declared_global) - (bound - declared_global))


# -- the visitor ---------------------------------------------------------------------------------


class _Visitor:
    """Emits :class:`Event` in evaluation order for module-level statements."""

    def __init__(self, line_offset: int = 0) -> None:
        self.events: list[Event] = []
        self.star_imports: list[tuple[str, int]] = []
        self.offset = line_offset

    def emit(self, action: str, name: str, node: ast.AST, how: str = "", deferred: frozenset[str] = frozenset()) -> None:
        if name == "get_ipython" and action != "define":
            return  # the call every transformed magic makes
        line = getattr(node, "lineno", 1) + self.offset
        self.events.append(Event(action, name, line, getattr(node, "col_offset", 0) + 1, how, deferred))

    # statements ---------------------------------------------------------------
    def statement(self, node: ast.stmt) -> None:
        method = getattr(self, f"stmt_{type(node).__name__}", None)
        if method is not None:
            method(node)
        else:  # While, If, Try, With... visited in field order; nested statements recurse
            self.generic(node)

    def generic(self, node: ast.AST) -> None:
        for _name, value in ast.iter_fields(node):
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, ast.stmt):
                    self.statement(item)
                elif isinstance(item, ast.expr):
                    self.expr(item)
                elif isinstance(item, ast.AST):
                    self.generic(item)

    def stmt_Expr(self, node: ast.Expr) -> None:
        value = node.value
        if _is_magic_call(value) and self._python_magic(value):
            return
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
            root = _root_name(value.func.value)
            if root is not None:
                self.expr(value)
                self.emit("mutate", root, value, "method")
                return
        self.expr(value)

    def stmt_Assign(self, node: ast.Assign) -> None:
        self.expr(node.value)
        for target in node.targets:
            self.target(target, "assign")

    def stmt_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.expr(node.value)
            self.target(node.target, "assign")

    def stmt_AugAssign(self, node: ast.AugAssign) -> None:
        self.expr(node.value)
        if isinstance(node.target, ast.Name):
            self.emit("read", node.target.id, node.target)
            self.emit("define", node.target.id, node.target, "augmented")
        else:
            self.target(node.target, "assign")

    def stmt_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.emit("define", target.id, target, "del")
            else:
                self.target(target, "del")

    def stmt_For(self, node: ast.For) -> None:
        self.expr(node.iter)
        self.target(node.target, "loop")
        for s in [*node.body, *node.orelse]:
            self.statement(s)

    stmt_AsyncFor = stmt_For

    def stmt_With(self, node: ast.With) -> None:
        for item in node.items:
            self.expr(item.context_expr)
            if item.optional_vars is not None:
                self.target(item.optional_vars, "with")
        for s in node.body:
            self.statement(s)

    stmt_AsyncWith = stmt_With

    def stmt_Try(self, node: ast.Try) -> None:
        for s in node.body:
            self.statement(s)
        for handler in node.handlers:
            if handler.type is not None:
                self.expr(handler.type)
            if handler.name:
                self.emit("define", handler.name, handler, "except")
            for s in handler.body:
                self.statement(s)
        for s in [*node.orelse, *node.finalbody]:
            self.statement(s)

    stmt_TryStar = stmt_Try

    def stmt_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.emit("define", (alias.asname or alias.name).split(".")[0], node, "import")

    def stmt_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                self.star_imports.append(("." * node.level + (node.module or ""), node.lineno + self.offset))
            else:
                self.emit("define", alias.asname or alias.name, node, "import")

    def stmt_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.expr(decorator)
        args = node.args
        for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
            self.expr(default)
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if a is not None and a.annotation is not None:
                self.expr(a.annotation)
        if node.returns is not None:
            self.expr(node.returns)
        deferred = _free_names(list(node.body), node) - {node.name}
        self.emit("define", node.name, node, "def", deferred)

    stmt_AsyncFunctionDef = stmt_FunctionDef

    def stmt_ClassDef(self, node: ast.ClassDef) -> None:
        for decorator in node.decorator_list:
            self.expr(decorator)
        for base in [*node.bases, *(k.value for k in node.keywords)]:
            self.expr(base)
        methods = [s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
        body = [s for s in node.body if s not in methods]
        # the class body runs now; its methods' bodies when called
        immediate = _free_names(body) - {s.name for s in methods}
        for name in sorted(immediate):
            self.emit("read", name, node)
        deferred = frozenset().union(*(_free_names(list(m.body), m) for m in methods)) if methods else frozenset()
        self.emit("define", node.name, node, "class", deferred - {node.name})

    def stmt_Match(self, node: ast.Match) -> None:
        self.expr(node.subject)
        for case in node.cases:
            for n in ast.walk(case.pattern):
                if isinstance(n, ast.expr):
                    self.expr(n)
            for name in sorted(_bound_inside(case.pattern)):
                self.emit("define", name, case.pattern, "match")
            if case.guard is not None:
                self.expr(case.guard)
            for s in case.body:
                self.statement(s)

    def stmt_Global(self, node: ast.Global) -> None:
        return None

    # magics with Python code ---------------------------------------------------
    def _python_magic(self, call: ast.Call) -> bool:
        """Analyse the Python code of ``%time x = ...`` / ``%%capture out``; False if not such a magic."""
        args = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        kind = call.func.attr  # type: ignore[union-attr]
        if not args:
            return False
        magic = args[0]
        if kind == "run_line_magic" and magic in _PYTHON_LINE_MAGICS and len(args) == 2:
            code, line_offset = _strip_magic_options(args[1]), call.lineno - 1
        elif kind == "run_cell_magic" and magic in _PYTHON_CELL_MAGICS and len(args) == 3:
            if magic == "capture":
                for word in args[1].split():
                    if word.isidentifier():
                        self.emit("define", word, call, "magic")
                        break
            code, line_offset = args[2], call.lineno  # the body starts on the line after %%magic
        else:
            return False
        try:
            tree = ast.parse(code)
        except SyntaxError:
            return False
        inner = _Visitor(self.offset + line_offset)
        for statement in tree.body:
            inner.statement(statement)
        self.events.extend(inner.events)
        self.star_imports.extend(inner.star_imports)
        return True

    # targets and expressions ----------------------------------------------------------
    def target(self, node: ast.expr, how: str) -> None:
        if isinstance(node, ast.Name):
            self.emit("define", node.id, node, "del" if how == "del" else how)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for element in node.elts:
                self.target(element, how)
        elif isinstance(node, ast.Starred):
            self.target(node.value, how)
        elif isinstance(node, (ast.Subscript, ast.Attribute)):
            if isinstance(node, ast.Subscript):
                self.expr(node.slice)
            self._reads_under(node.value)
            root = _root_name(node)
            if root is not None:
                kind = "del" if how == "del" else ("item" if isinstance(node, ast.Subscript) else "attribute")
                self.emit("mutate", root, node, kind)

    def _reads_under(self, node: ast.expr) -> None:
        """Reads in ``x.a[i]`` on the left of an assignment (the chain's root is read by ``mutate``)."""
        if isinstance(node, ast.Name):
            return
        if isinstance(node, ast.Attribute):
            self._reads_under(node.value)
        elif isinstance(node, ast.Subscript):
            self._reads_under(node.value)
            self.expr(node.slice)
        else:
            self.expr(node)

    def expr(self, node: ast.expr) -> None:
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                self.emit("read", node.id, node)
            return
        if isinstance(node, ast.NamedExpr):
            self.expr(node.value)
            self.target(node.target, "assign")
            return
        if isinstance(node, ast.Lambda):
            for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]:
                self.expr(default)
            for name in sorted(_free_names([node.body], node)):
                self.emit("read", name, node)
            return
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            self.expr(node.generators[0].iter)  # evaluated in the enclosing scope
            rest: list[ast.AST] = [g for g in node.generators]
            rest[0] = ast.comprehension(target=node.generators[0].target, iter=ast.Constant(None),
                                        ifs=node.generators[0].ifs, is_async=0)
            parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            names = _free_names([*parts, *rest])
            walrus = {n.target.id for n in ast.walk(node) if isinstance(n, ast.NamedExpr) and isinstance(n.target, ast.Name)}
            for name in sorted(names - walrus):
                self.emit("read", name, node)
            for name in sorted(walrus):
                self.emit("define", name, node, "assign")
            return
        if isinstance(node, ast.Call):
            self.expr(node.func)
            for arg in node.args:
                self.expr(arg)
            for keyword in node.keywords:
                self.expr(keyword.value)
            if isinstance(node.func, ast.Attribute):
                root = _root_name(node.func.value)
                inplace = any(k.arg == "inplace" and isinstance(k.value, ast.Constant) and k.value.value is True for k in node.keywords)
                if root is not None and inplace:
                    self.emit("mutate", root, node, "method")
            return
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child)
            elif isinstance(child, ast.AST):
                for grandchild in ast.iter_child_nodes(child):
                    if isinstance(grandchild, ast.expr):
                        self.expr(grandchild)


def _strip_magic_options(line: str) -> str:
    """The code of ``%timeit -n 3 -r 1 f(x)``: drop leading ``-x value`` options."""
    words = line.split()
    i = 0
    while i < len(words) and words[i].startswith("-"):
        i += 2 if words[i] in ("-n", "-r", "-s", "-T", "-D") else 1
    return " ".join(words[i:]) if i else line
