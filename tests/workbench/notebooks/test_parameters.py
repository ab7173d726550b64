"""Reading a notebook's parameters cell without running it."""

from __future__ import annotations

import nbformat

from partita_workbench.notebooks import NotebookParameter, notebook_parameters
from partita_workbench.notebooks.parameters import find_parameters_cell, parse_parameters


def test_parameters_of_real_notebooks(notebooks_dir):
    assert notebook_parameters(notebooks_dir / "simple_execute.ipynb") == [NotebookParameter("msg", None, True, None, True, 1)]
    assert [p.name for p in notebook_parameters(notebooks_dir / "input.ipynb")] == ["salutation", "name"]
    assert notebook_parameters(notebooks_dir / "divide.ipynb") == [
        NotebookParameter("numerator", 1, True, int, False, 1),
        NotebookParameter("denominator", 0, True, int, False, 2),
    ]


def test_notebook_without_parameters_cell(notebooks_dir):
    assert notebook_parameters(notebooks_dir / "Unicode.ipynb") == []
    assert find_parameters_cell(nbformat.read(notebooks_dir / "broken1.ipynb", as_version=4)) is None


def test_complex_parameters_cell_skips_what_does_not_parse(notebooks_dir):
    # papermill's test notebook: annotations, comments, a multi-line list, an
    # expression and a line that is not Python ("= 2").
    found = {p.name: p for p in notebook_parameters(notebooks_dir / "complex_parameters.ipynb")}
    assert list(found) == ["msg", "a", "b", "c", "d"]
    assert found["a"] == NotebookParameter("a", 2.25, True, float, False, 2)
    assert found["b"] == NotebookParameter("b", ["Hello", "World"], True, list, False, 3)
    assert found["c"] == NotebookParameter("c", None, True, None, True, 10)  # "NoneType": not a type we check
    assert found["d"] == NotebookParameter("d", None, False, None, False, 12)


def test_literal_types_and_reassignment():
    source = "s = 'x'\nflag = False\nn = 1\nn = 2.5\nd = {'k': [1]}\nt = (1, 2)\nx, y = 1, 2\nimport os"
    assert {p.name: (p.default, p.annotation) for p in parse_parameters(source)} == {
        "s": ("x", str),
        "flag": (False, bool),
        "n": (2.5, float),
        "d": ({"k": [1]}, dict),
        "t": ((1, 2), None),
    }


def test_annotations_win_over_the_default_type():
    source = (
        "rate: float = 1\nlabel: str | None = None\ncount: Optional[int] = None\nnames: typing.List[str] = []\n"
        "when: 'str' = '2024-01-01'\nodd: Decimal = 1\n"
    )
    found = {p.name: (p.annotation, p.nullable) for p in parse_parameters(source)}
    assert found == {
        "rate": (float, False), "label": (str, True), "count": (int, True), "names": (list, False),
        "when": (str, False), "odd": (None, True),  # an annotation we do not check: any value
    }


def test_check_parameters_converts_widens_and_lists_every_problem():
    import datetime as dt

    import pytest

    from partita.exceptions import ParameterTypeError
    from partita_workbench.notebooks import check_parameters

    declared = parse_parameters("rate = 0.5\nday = '2024-01-01'\nitems = [1]\nupstream = ['load']")
    assert check_parameters("nb.ipynb", declared, {"rate": 2, "day": dt.datetime(2024, 5, 1, 10, 30), "items": (1, 2)}) == {
        "rate": 2.0, "day": "2024-05-01T10:30:00", "items": [1, 2]}
    assert check_parameters("nb.ipynb", declared, {"upstream": {"load": "x.csv"}}, untyped=("upstream",)) == {
        "upstream": {"load": "x.csv"}}
    with pytest.raises(ParameterTypeError) as caught:
        check_parameters("nb.ipynb", declared, {"rate": "fast", "zzz": 1, "upstream": {}})
    assert str(caught.value) == (
        "notebook 'nb.ipynb': parameter 'rate' must be float, got str 'fast'; unknown parameter 'zzz'; "
        "parameter 'upstream' must be list, got dict {}. Its parameters cell declares: rate: float = 0.5, "
        "day: str = '2024-01-01', items: list = [1], upstream: list = ['load']."
    )
    assert check_parameters("nb.ipynb", [], {"zzz": 1}, has_cell=False) == {"zzz": 1}
