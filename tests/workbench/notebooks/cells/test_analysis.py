"""Static analysis of notebooks into tasks: task cells, setup, bindings, mutations, problems."""

from __future__ import annotations

import pytest

from partita_workbench.notebooks.cells import analyse_notebook
from partita_workbench.notebooks.cells.names import analyse_cell

from support.notebooks import make_notebook


def edges(graph):
    return {(e.upstream, e.downstream): sorted(d.name for d in e.variables) for e in graph.edges}


def test_task_cells_from_tags_and_first_line_markers(tmp_path):
    graph = analyse_notebook(make_notebook(tmp_path / "nb.ipynb", [
        "import os",
        "md:# Loading",
        ("a = 1", ["task:load"]),
        "b = a + 1",
        "# task: clean\nc = b * 2",
    ]))
    assert [(t.name, t.cells, t.code_cells) for t in graph.tasks] == [("load", (2, 3), (2, 3)), ("clean", (4,), (4,))]
    assert graph.setup_cells == (0,)
    assert edges(graph) == {("load", "clean"): ["b"]}
    assert graph.task("load").outputs == ("b",)


def test_nearest_earlier_definer_wins(tmp_path):
    graph = analyse_notebook(make_notebook(tmp_path / "nb.ipynb", [
        "# task: one\nx = 1",
        "# task: two\nx = 2",
        "# task: three\ny = x",
        "# task: four\nx = 4",
    ]))
    assert edges(graph) == {("two", "three"): ["x"]}
    (edge,) = graph.edges
    assert (edge.variables[0].cell, edge.variables[0].line) == (1, 2)


@pytest.mark.parametrize("mutation", [
    "data['k'] = 2", "data.attr = 2", "del data['k']", "data += [1]", "data.append(3)",
    "data.update(k=3)", "data.sort_values('k', inplace=True)", "data.a.b[0] = 1",
])
def test_mutations_count_as_redefinitions(tmp_path, mutation):
    graph = analyse_notebook(make_notebook(tmp_path / "nb.ipynb", [
        "# task: make\ndata = {}",
        f"# task: change\n{mutation}",
        "# task: use\nprint(data)",
    ]))
    assert edges(graph) == {("make", "change"): ["data"], ("change", "use"): ["data"]}


def test_a_method_call_used_for_its_result_or_on_a_module_is_only_a_read(tmp_path):
    graph = analyse_notebook(make_notebook(tmp_path / "nb.ipynb", [
        "import math",
        "# task: make\ndata = [3, 1, 2]",
        "# task: left\nordered = sorted(data)\nfirst = data.index(3)\nmath.floor(1.5)",
        "# task: right\ntotal = data.count(1)",
        "# task: end\nprint(ordered, first, total)",
    ]))
    assert edges(graph) == {
        ("make", "left"): ["data"], ("make", "right"): ["data"],
        ("left", "end"): ["first", "ordered"], ("right", "end"): ["total"],
    }


def test_setup_cells_and_an_implicit_prelude(tmp_path):
    graph = analyse_notebook(make_notebook(tmp_path / "nb.ipynb", [
        "import pandas as pd\npd.set_option('display.width', 120)\nLIMIT = 10 * 2\n\ndef f(x):\n    return x + LIMIT",
        "class Box:\n    size = LIMIT",
        "rows = f(1)",
        "# task: t\nprint(rows, f(2), Box)",
    ]))
    assert graph.setup_cells == (0, 1)
    assert [(t.name, t.code_cells, t.implicit) for t in graph.tasks] == [("prelude", (2,), True), ("t", (3,), False)]
    assert edges(graph) == {("prelude", "t"): ["rows"]}


def test_parameters_cell_declares_parameters_read_by_tasks(tmp_path):
    graph = analyse_notebook(make_notebook(tmp_path / "nb.ipynb", [
        ("rate = 0.75\nname = '007'\nflag = False", ["parameters"]),
        "# task: t\nprint(rate, name)",
        "# task: u\nrate = 1",
        "# task: v\nprint(rate, flag)",
    ]))
    assert graph.parameters_cell == 0
    assert [(p.name, p.annotation) for p in graph.parameters] == [("rate", float), ("name", str), ("flag", bool)]
    assert graph.task("t").parameters == ("name", "rate")
    assert graph.task("v").parameters == ("flag",)
    assert edges(graph) == {("u", "v"): ["rate"]}


def test_functions_read_the_globals_their_bodies_use_when_called(tmp_path):
    graph = analyse_notebook(make_notebook(tmp_path / "nb.ipynb", [
        "# task: config\nfactor = 3",
        "# task: helpers\ndef scale(v):\n    return v * factor",
        "# task: use\nprint(scale(2))",
    ]))
    assert edges(graph) == {("config", "use"): ["factor"], ("helpers", "use"): ["scale"]}


def test_needs_tags_add_edges(tmp_path):
    graph = analyse_notebook(make_notebook(tmp_path / "nb.ipynb", [
        "# task: write\nopen('f.txt', 'w').write('x')",
        ("print(open('f.txt').read())", ["task:read", "needs:write"]),
    ]))
    (edge,) = graph.edges
    assert (edge.upstream, edge.downstream, edge.variables, edge.needs_cell) == ("write", "read", (), 1)


def test_magics_and_shell_escapes_are_ignored_except_python_code_in_them():
    info = analyse_cell("%matplotlib inline\n!ls -l\nfiles = !ls\n%time total = sum(values)\n%timeit -n 3 f(x)")
    assert [(e.action, e.name, e.line) for e in info.events] == [
        ("define", "files", 3), ("read", "sum", 4), ("read", "values", 4), ("define", "total", 4),
        ("read", "f", 5), ("read", "x", 5),
    ]
    captured = analyse_cell("%%capture out\ny = z + 1")
    assert [(e.action, e.name, e.line) for e in captured.events] == [("define", "out", 1), ("read", "z", 2), ("define", "y", 2)]


def test_comprehension_and_lambda_variables_are_local():
    info = analyse_cell("squares = [i * k for i in items if i]\nf = lambda a: a + offset")
    reads = {e.name for e in info.events if e.action == "read"}
    assert reads == {"items", "k", "offset"}


def test_problems_are_reported_with_cell_and_line(notebooks_dir):
    graph = analyse_notebook(notebooks_dir / "cells" / "problems.ipynb")
    found = [(p.code, p.cell, p.line) for p in graph.problems]
    assert found == [
        ("star-import", 0, 2),
        ("undefined-name", 2, 2),
        ("empty-task", 3, None),
        ("undefined-name", 4, 1),
    ]
    assert "did you mean 'features'?" in graph.problems[1].message
    assert "first defined in cell 5" in graph.problems[3].message


def test_bad_structure_problems(tmp_path):
    graph = analyse_notebook(make_notebook(tmp_path / "nb.ipynb", [
        ("x = 1", ["task:a", "needs:b"]),
        ("y = (", ["task:b", "needs:a"]),
        ("z = 1", ["task:a", "needs:c"]),
        ("w = 1", ["task:bad name!"]),
    ]))
    codes = sorted(p.code for p in graph.problems)
    assert codes == ["bad-task-name", "cycle", "duplicate-task", "syntax-error", "unknown-need"]


def test_parameters_read_by_setup_cells_are_read_by_every_task(tmp_path):
    graph = analyse_notebook(make_notebook(tmp_path / "nb.ipynb", [
        ("n = 2", ["parameters"]),
        "LIMIT = n * 10",
        "# task: a\nprint(LIMIT)",
        "# task: b\nprint('b')",
    ]))
    assert graph.setup_cells == (1,)
    assert [t.parameters for t in graph.tasks] == [("n",), ("n",)]


def test_a_notebook_without_task_cells_is_checked_top_to_bottom(tmp_path):
    graph = analyse_notebook(make_notebook(tmp_path / "nb.ipynb", [
        ("n = 1", ["parameters"]),
        "total = n + 1",
        "print(totl)",
    ]))
    assert graph.tasks == [] and graph.edges == []
    (problem,) = graph.problems
    assert (problem.code, problem.cell, problem.line) == ("undefined-name", 2, 1)
    assert "did you mean 'total'?" in problem.message


def test_a_function_declaring_a_global_reads_it_when_called():
    (definition,) = analyse_cell("def bump(a):\n    global counter\n    counter += a\n    return helper(a)").events
    assert (definition.name, sorted(definition.deferred)) == ("bump", ["counter", "helper"])
