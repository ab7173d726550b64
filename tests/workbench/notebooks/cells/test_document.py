"""``graph_document`` (the canonical graph form) and ``partita notebook graph|check``."""

from __future__ import annotations

import json

from partita_workbench.notebooks import graph_document

from support.cli import run_cli


def test_document_of_the_diamond(notebooks_dir):
    path = str(notebooks_dir / "cells" / "diamond.ipynb")
    document = graph_document(path)
    assert document["name"] == "diamond" and document["kind"] == "notebook" and document["source"] == path
    assert document["parameters"] == {"n": {"type": "integer", "default": 4}}
    assert [(t["name"], t["kind"], t["location"]["cell"]) for t in document["tasks"]] == [
        ("A", "cells", 3), ("B", "cells", 4), ("C", "cells", 5), ("D", "cells", 7),
    ]
    assert document["edges"] == [
        {"from": "A", "to": "B", "via": [{"kind": "variable", "name": "base", "line": 2, "cell": 3}]},
        {"from": "A", "to": "C", "via": [{"kind": "variable", "name": "base", "line": 2, "cell": 3}]},
        {"from": "B", "to": "D", "via": [{"kind": "variable", "name": "total", "line": 1, "cell": 4}]},
        {"from": "C", "to": "D", "via": [{"kind": "variable", "name": "squares", "line": 1, "cell": 6}]},
    ]
    json.dumps(document)  # plain JSON data


def test_needs_appear_in_via(notebooks_dir, tmp_path):
    from support.notebooks import make_notebook

    path = make_notebook(tmp_path / "nb.ipynb", ["# task: a\nx = 1", ("print(x)", ["task:b", "needs:a"])])
    (edge,) = graph_document(path)["edges"]
    assert edge["via"] == [{"kind": "needs", "name": "a", "line": None, "cell": 1},
                           {"kind": "variable", "name": "x", "line": 2, "cell": 0}]


def test_a_notebook_without_task_cells_is_one_notebook_task(notebooks_dir):
    document = graph_document(notebooks_dir / "divide.ipynb")
    assert [(t["name"], t["kind"]) for t in document["tasks"]] == [("divide", "notebook")]
    assert document["edges"] == []
    assert document["parameters"]["numerator"] == {"type": "integer", "default": 1}


def test_cli_graph_text_and_json(notebooks_dir):
    path = str(notebooks_dir / "cells" / "diamond.ipynb")
    text = run_cli("notebook", "graph", path)
    assert text.returncode == 0, text.stderr
    assert "A → B  base (cell 3, line 2)" in text.stdout
    assert "C → D  squares (cell 6, line 1)" in text.stdout
    assert "n: integer = 4" in text.stdout
    as_json = run_cli("notebook", "graph", path, "--format", "json")
    assert json.loads(as_json.stdout) == graph_document(path)


def test_cli_check_reports_problems_and_exits_2(notebooks_dir):
    path = str(notebooks_dir / "cells" / "problems.ipynb")
    result = run_cli("notebook", "check", path)
    assert result.returncode == 2
    lines = result.stdout.strip().splitlines()
    assert lines[1] == f"{path}: cell 2, line 2, col 27: name 'featurs' is not defined by any earlier cell; did you mean 'features'? (it may come from the star import in cell 0)"
    assert any("cell 3: task 'empty' has no code" in line for line in lines)
    assert any("cell 0, line 2: 'from os.path import *' hides which names it defines" in line for line in lines)
    assert "4 problems found" in result.stderr


def test_cli_check_clean_notebook_and_missing_file(notebooks_dir, tmp_path):
    clean = run_cli("notebook", "check", str(notebooks_dir / "cells" / "diamond.ipynb"))
    assert clean.returncode == 0 and "no problems (4 tasks, 4 edges)" in clean.stdout
    missing = run_cli("notebook", "check", str(tmp_path / "nope.ipynb"))
    assert missing.returncode == 2 and "not found" in missing.stderr
