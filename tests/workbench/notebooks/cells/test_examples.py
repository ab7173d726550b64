"""The example notebooks under notebooks/: compiled graphs against hand-written edge lists, and ``partita run``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from partita_workbench.notebooks import graph_document

from support.cli import run_cli

EXAMPLES = Path(__file__).parents[4] / "notebooks"


def edge_list(document):
    return [(e["from"], e["to"], [(v["kind"], v["name"], v["cell"], v["line"]) for v in e["via"]]) for e in document["edges"]]


def test_etl_graph_matches_the_expected_edges():
    document = graph_document(EXAMPLES / "cells_etl" / "etl.ipynb")
    assert [t["name"] for t in document["tasks"]] == ["extract", "clean", "totals", "by_region", "report"]
    assert edge_list(document) == [
        ("by_region", "report", [("variable", "per_region", 8, 5)]),
        ("clean", "by_region", [("variable", "valid", 6, 2)]),
        ("clean", "report", [("variable", "dropped", 6, 3)]),
        ("clean", "totals", [("variable", "valid", 6, 2)]),
        ("extract", "clean", [("variable", "orders", 4, 3)]),
        ("totals", "report", [("variable", "totals", 7, 3)]),
    ]
    assert document["parameters"] == {
        "rows": {"type": "integer", "default": 200},
        "seed": {"type": "integer", "default": 7},
        "min_amount": {"type": "number", "default": 5.0},
    }


@pytest.mark.parametrize("folder, name, parameters", [
    ("report", "report", {"region": {"type": "string", "default": "north"}, "target": {"type": "number", "default": 40.0},
                          "weeks": {"type": "integer", "default": 4}}),
    ("flows", "flows", {"n": {"type": "integer", "default": 5}}),
])
def test_whole_notebook_examples_are_one_task_without_edges(folder, name, parameters):
    document = graph_document(EXAMPLES / folder / f"{name}.ipynb")
    assert [(t["name"], t["kind"]) for t in document["tasks"]] == [(name, "notebook")]
    assert edge_list(document) == []
    assert document["parameters"] == parameters


@pytest.mark.parametrize("notebook, args, tasks", [
    ("cells_etl/etl.ipynb", ["-p", "rows=60"], ["extract", "clean", "totals", "by_region", "report"]),
    ("report/report.ipynb", ["-p", "region=south", "-p", "target=50"], ["report"]),
    ("flows/flows.ipynb", ["-p", "n=4"], ["flows"]),
])
def test_each_example_runs_with_partita_run(tmp_path, notebook, args, tasks):
    source = EXAMPLES / notebook
    before = source.read_bytes()
    result = run_cli("run", str(source), *args, env={"PARTITA_HOME": str(tmp_path / "home")})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "finished in state Completed" in result.stdout
    for task in tasks:
        assert re.search(rf"│ {task}\s+│ Completed", result.stdout), result.stdout
    assert source.read_bytes() == before
