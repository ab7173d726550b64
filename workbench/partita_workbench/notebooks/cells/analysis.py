"""Compiling a notebook into a task graph, by static analysis of its cells.

Which cells are tasks
    A cell starts a task when its ``metadata.tags`` hold ``task:NAME`` or its
    first line is ``# task: NAME``; the cells after it belong to that task
    until the next task cell. Code cells before the first task cell that only
    import, define functions or classes, assign constants or configure
    imported modules are *setup*: they run before every task. Other code
    cells before the first task cell form an implicit task ``prelude``. The
    cell tagged ``parameters`` (papermill's convention) declares the flow's
    parameters and belongs to no task.

Dependencies
    Each task's cells are analysed with :mod:`.names`. A read of a name the
    task has not yet defined itself binds to the nearest earlier definer in
    notebook order — a task, a setup cell or the parameters cell — which is
    what a top-to-bottom run ("Restart kernel and run all") would see. A read
    bound to another task is an edge carrying that variable; a mutation
    (item/attribute assignment, ``del``, ``+=``, a method call for its side
    effect) reads the old value and counts as a new definition. Reading a
    function reads the globals its body uses (they are looked up when it is
    called). ``needs:NAME`` tags add edges.

Nothing is executed here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from partita.exceptions import InvalidTarget

from partita_workbench.notebooks.cells.model import Cell, CellTask, Definition, Edge, NotebookGraph, Problem
from partita_workbench.notebooks.cells.names import BUILTIN_NAMES, IPYTHON_NAMES, CellNames, Event, analyse_cell
from partita_workbench.notebooks.parameters import PARAMETERS_TAG, parse_parameters

__all__ = ["TASK_TAG_PREFIX", "NEEDS_TAG_PREFIX", "read_notebook", "analyse_notebook", "task_name_of", "has_task_cells"]

TASK_TAG_PREFIX = "task:"
NEEDS_TAG_PREFIX = "needs:"
PRELUDE_TASK = "prelude"
_MARKER = re.compile(r"^\s*#\s*task:\s*(\S*)\s*$")
_VALID_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_KNOWN = BUILTIN_NAMES | IPYTHON_NAMES


def read_notebook(path: str | Path) -> Any:
    """Read a notebook file with nbformat (as version 4).

    Raises:
        partita.exceptions.InvalidTarget: missing or unreadable file.
    """
    file = Path(path)
    if not file.is_file():
        raise InvalidTarget(f"notebook '{path}' not found")
    try:
        return nbformat.read(str(file), as_version=4)
    except Exception as exc:  # nbformat raises several kinds for unreadable files
        raise InvalidTarget(f"'{path}' is not a readable notebook: {type(exc).__name__}: {exc}") from exc


def task_name_of(cell: Any) -> str | None:
    """The task a cell starts (``task:NAME`` tag, else ``# task: NAME`` first line), or ``None``."""
    if cell.get("cell_type") != "code":
        return None
    for tag in cell.get("metadata", {}).get("tags", []) or []:
        if isinstance(tag, str) and tag.startswith(TASK_TAG_PREFIX):
            return tag[len(TASK_TAG_PREFIX):].strip()
    first = cell.get("source", "").split("\n", 1)[0]
    match = _MARKER.match(first)
    return match.group(1) if match else None


def has_task_cells(path: str | Path) -> bool:
    """Whether any cell of the notebook starts a task (see the module docstring)."""
    return any(task_name_of(c) is not None for c in read_notebook(path).cells)


@dataclass
class _Binding:
    owner: str  # task name, "" for setup, None-like marker for parameters
    kind: str  # "task" | "setup" | "parameters"
    cell: int
    line: int
    how: str
    deferred: frozenset[str] = frozenset()


@dataclass
class _TaskScan:
    inputs: dict[str, Definition] = field(default_factory=dict)  # name -> definition in upstream task
    input_tasks: dict[str, str] = field(default_factory=dict)
    parameters: set[str] = field(default_factory=set)
    local: dict[str, _Binding] = field(default_factory=dict)


def _cells(notebook: Any) -> list[Cell]:
    cells = []
    for index, cell in enumerate(notebook.cells):
        tags = tuple(t for t in cell.get("metadata", {}).get("tags", []) or [] if isinstance(t, str))
        cells.append(Cell(index, cell.get("id"), cell.get("cell_type", "code"), cell.get("source", ""), tags))
    return cells


def analyse_notebook(path: str | Path) -> NotebookGraph:
    """Compile a notebook file into a :class:`NotebookGraph` (see the module docstring).

    Problems (undefined names, empty tasks, star imports, syntax errors, bad
    ``needs:`` tags, cycles) are collected in ``NotebookGraph.problems``,
    never raised.

    Raises:
        partita.exceptions.InvalidTarget: missing or unreadable notebook.
    """
    notebook = read_notebook(path)
    return analyse(notebook, str(path))


def analyse(notebook: Any, path: str) -> NotebookGraph:
    """:func:`analyse_notebook` for a notebook already read (an ``nbformat`` node)."""
    from partita_workbench.pipelines.graph import find_cycles  # (the pipelines package is heavier to import)
    cells = _cells(notebook)
    names: dict[int, CellNames] = {c.index: analyse_cell(c.source) for c in cells if c.cell_type == "code"}
    problems: list[Problem] = []

    parameters_cell = next((c.index for c in cells if c.cell_type == "code" and PARAMETERS_TAG in c.tags), None)
    parameters = parse_parameters(cells[parameters_cell].source) if parameters_cell is not None else []

    # -- split into setup cells and tasks ------------------------------------------------
    starts = {c.index: task_name_of(notebook.cells[c.index]) for c in cells}
    first_task = next((i for i, n in starts.items() if n is not None), None)
    setup: list[int] = []
    groups: list[tuple[str, list[int], bool]] = []  # (name, covered cells, implicit)
    prelude: list[int] = []
    for cell in cells:
        if cell.index == parameters_cell:
            continue
        if first_task is None or cell.index < first_task:
            if cell.cell_type != "code":
                continue
            info = names[cell.index]
            if first_task is None or (info.is_setup and not prelude):
                setup.append(cell.index)
            else:
                prelude.append(cell.index)
            continue
        name = starts[cell.index]
        if name is not None:
            groups.append((name, [cell.index], False))
        else:
            groups[-1][1].append(cell.index)
    if first_task is None:
        setup = []  # a notebook without task cells is one whole-notebook task
    if prelude:
        used = {g[0] for g in groups}
        prelude_name = PRELUDE_TASK if PRELUDE_TASK not in used else next(f"{PRELUDE_TASK}-{i}" for i in range(2, 999) if f"{PRELUDE_TASK}-{i}" not in used)
        groups.insert(0, (prelude_name, prelude, True))

    seen: dict[str, int] = {}
    for name, covered, implicit in groups:
        if not _VALID_NAME.match(name):
            problems.append(Problem(f"task name {name!r} is not valid; use letters, digits, '_', '-' or '.' and start with a letter", covered[0], 1, None, "bad-task-name"))
        if name in seen:
            problems.append(Problem(f"task {name!r} is already defined at cell {seen[name]}; give each task cell its own name", covered[0], 1, None, "duplicate-task"))
        seen.setdefault(name, covered[0])

    for index, info in names.items():
        if info.syntax_error is not None:
            message, line, column = info.syntax_error
            problems.append(Problem(f"syntax error: {message}", index, line, column, "syntax-error"))
        for module, line in info.star_imports:
            problems.append(Problem(
                f"'from {module} import *' hides which names it defines, so reads cannot be traced to it; "
                f"import the names you use", index, line, None, "star-import"))

    # -- bind reads in notebook order -----------------------------------------------------
    units: list[tuple[int, str, Any]] = [(i, "setup", i) for i in setup]
    if parameters_cell is not None:
        units.append((parameters_cell, "parameters", parameters_cell))
    units += [(covered[0], "task", (name, covered, implicit)) for name, covered, implicit in groups]
    if not groups:  # a whole notebook: its reads are checked as one run top to bottom
        whole = [c.index for c in cells if c.cell_type == "code" and c.index != parameters_cell]
        if whole:
            units.append((whole[0], "whole", whole))
    units.sort(key=lambda u: u[0])

    bindings: dict[str, _Binding] = {}
    later_defs = _all_definitions(names)
    star_before = sorted(i for i, info in names.items() if info.star_imports)
    scans: dict[str, _TaskScan] = {}
    setup_parameters: set[str] = set()  # read by setup cells, so by every task
    for position, kind, payload in units:
        if kind == "setup":
            for event in names[payload].events:
                if event.action == "define":
                    bindings[event.name] = _Binding("", "setup", payload, event.line, event.how, event.deferred)
                elif event.action == "read" and event.name in bindings and bindings[event.name].kind == "parameters":
                    setup_parameters.add(event.name)
                elif event.action == "read" and event.name not in bindings and event.name not in _KNOWN:
                    problems.append(_undefined(event, payload, later_defs, star_before))
        elif kind == "parameters":
            for param in parameters:
                bindings[param.name] = _Binding("", "parameters", payload, 1, "assign")
        elif kind == "whole":
            scan = _TaskScan()
            for index in payload:
                for event in names[index].events:
                    _replay(event, index, "", scan, bindings, problems, later_defs, star_before, set())
        else:
            name, covered, _implicit = payload
            scan = scans[name] = _TaskScan()
            for index in covered:
                if index in names:
                    for event in names[index].events:
                        _replay(event, index, name, scan, bindings, problems, later_defs, star_before, set())
            for var, binding in scan.local.items():
                bindings[var] = binding

    # -- tasks, outputs and edges ------------------------------------------------------------
    outputs: dict[str, set[str]] = {name: set() for name, _c, _i in groups}
    variables: dict[tuple[str, str], set[Definition]] = {}
    for name, scan in scans.items():
        for var, definition in scan.inputs.items():
            upstream = scan.input_tasks[var]
            outputs[upstream].add(var)
            variables.setdefault((upstream, name), set()).add(definition)

    needs_cells: dict[tuple[str, str], int] = {}
    task_names = [g[0] for g in groups]
    needs_of: dict[str, list[str]] = {}
    for name, covered, _implicit in groups:
        wanted: list[str] = []
        for index in covered:
            for tag in cells[index].tags:
                if not tag.startswith(NEEDS_TAG_PREFIX):
                    continue
                for need in (n.strip() for n in tag[len(NEEDS_TAG_PREFIX):].split(",")):
                    if not need:
                        continue
                    if need == name:
                        problems.append(Problem(f"task {name!r} needs itself; remove the tag 'needs:{need}'", index, None, None, "cycle"))
                    elif need not in task_names:
                        problems.append(Problem(f"task {name!r} needs {need!r}, which is not a task{did_you_mean(need, task_names)}", index, None, None, "unknown-need"))
                    else:
                        wanted.append(need)
                        needs_cells.setdefault((need, name), index)
        needs_of[name] = list(dict.fromkeys(wanted))

    edges = [
        Edge(up, down, tuple(sorted(variables.get((up, down), ()), key=lambda d: (d.cell, d.line, d.name))), needs_cells.get((up, down)))
        for up, down in sorted(set(variables) | set(needs_cells))
    ]
    dependencies = {n: {e.upstream for e in edges if e.downstream == n} for n in task_names}
    for cycle in find_cycles(dependencies):
        if len(cycle) > 2 or cycle[0] != cycle[1]:
            problems.append(Problem(f"tasks depend on each other in a cycle: {' → '.join(cycle)}; remove one of the needs: tags", seen.get(cycle[0]), None, None, "cycle"))

    tasks = []
    for name, covered, implicit in groups:
        scan = scans[name]
        code = tuple(i for i in covered if cells[i].cell_type == "code")
        if not any(names[i].has_code for i in code):
            problems.append(Problem(f"task {name!r} has no code; add code to its cells or remove its task tag", covered[0], None, None, "empty-task"))
        tasks.append(CellTask(
            name=name,
            cells=tuple(covered),
            code_cells=code,
            needs=tuple(needs_of[name]),
            inputs=dict(sorted(scan.input_tasks.items())),
            parameters=tuple(sorted(scan.parameters | setup_parameters)),
            outputs=tuple(sorted(outputs[name])),
            implicit=implicit,
        ))
    problems.sort(key=lambda p: (p.cell if p.cell is not None else -1, p.line or 0, p.column or 0))
    return NotebookGraph(
        path=path,
        name=Path(path).stem,
        nbformat=(int(notebook.get("nbformat", 4)), int(notebook.get("nbformat_minor", 0))),
        cells=cells,
        setup_cells=tuple(setup),
        parameters_cell=parameters_cell,
        parameters=parameters,
        tasks=tasks,
        edges=edges,
        problems=problems,
        kernelspec=dict(notebook.get("metadata", {}).get("kernelspec") or {}),
    )


def _replay(
    event: Event,
    cell: int,
    task: str,
    scan: _TaskScan,
    bindings: dict[str, _Binding],
    problems: list[Problem],
    later_defs: dict[str, list[int]],
    star_before: list[int],
    expanding: set[str],
) -> None:
    """Apply one event of ``task`` at ``cell``: bind reads, record definitions."""
    name = event.name
    if event.action == "define":
        scan.local[name] = _Binding(task, "task", cell, event.line, event.how, event.deferred)
        return
    if event.action == "mutate":
        current = scan.local.get(name) or bindings.get(name)
        if current is None and name in _KNOWN:
            return
        if current is not None and current.how in ("import", "def", "class"):
            return  # calling a module's or a function's method does not change a variable
        _replay(Event("read", name, event.line, event.column), cell, task, scan, bindings, problems, later_defs, star_before, expanding)
        scan.local[name] = _Binding(task, "task", cell, event.line, f"mutate-{event.how}")
        return
    # a read
    if name in scan.local:
        binding = scan.local[name]
    else:
        binding = bindings.get(name)
        if binding is None:
            if name not in _KNOWN:
                problems.append(_undefined(event, cell, later_defs, star_before))
            return
        if binding.kind == "task" and name not in scan.inputs:
            scan.inputs[name] = Definition(name, binding.cell, binding.line)
            scan.input_tasks[name] = binding.owner
        elif binding.kind == "parameters":
            scan.parameters.add(name)
    if binding.deferred and name not in expanding:
        expanding.add(name)
        for free in sorted(binding.deferred):
            if free not in _KNOWN:
                _replay(Event("read", free, event.line, event.column), cell, task, scan, bindings, [], later_defs, star_before, expanding)


def _all_definitions(names: dict[int, CellNames]) -> dict[str, list[int]]:
    defs: dict[str, list[int]] = {}
    for index in sorted(names):
        for event in names[index].events:
            if event.action == "define":
                defs.setdefault(event.name, []).append(index)
    return defs


def did_you_mean(word: str, candidates: Any) -> str:
    """``"; did you mean 'x'?"`` (:func:`partita_workbench.pipelines.suggest.did_you_mean`), imported when needed."""
    from partita_workbench.pipelines.suggest import did_you_mean as suggest

    return suggest(word, candidates)


def _undefined(event: Event, cell: int, later_defs: dict[str, list[int]], star_before: list[int]) -> Problem:
    later = [i for i in later_defs.get(event.name, []) if i > cell]
    if later:
        message = (f"name {event.name!r} is read before any earlier cell defines it (first defined in cell {later[0]}); "
                   f"move that definition above this cell")
    else:
        message = f"name {event.name!r} is not defined by any earlier cell{did_you_mean(event.name, later_defs)}"
        stars = [i for i in star_before if i <= cell]
        if stars:
            message += f" (it may come from the star import in cell {stars[0]})"
    return Problem(message, cell, event.line, event.column, "undefined-name")
