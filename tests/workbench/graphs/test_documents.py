"""Graph documents of YAML pipelines and @flow files: same form, same names and edges for the same pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from partita.exceptions import InvalidTarget, ValidationError

from partita_workbench.graphs import GraphDocument, graph_document
from partita_workbench.graphs.python_flow import python_graph_document
from partita_workbench.graphs.schema import SCHEMA_FILE, schema_text

ROOT = Path(__file__).parents[3]
DATA = ROOT / "tests" / "data"
ETL_YAML = DATA / "pipelines" / "etl" / "pipeline.yaml"
ETL_PY = DATA / "flows" / "etl_flow.py"
ETL_EDGES = [("extract", "load"), ("extract", "transform"), ("load", "report"), ("transform", "load")]


def schema() -> dict:
    return json.loads((ROOT / SCHEMA_FILE).read_text(encoding="utf-8"))


def test_committed_graph_schema_matches_the_model():
    assert (ROOT / SCHEMA_FILE).read_text(encoding="utf-8") == schema_text(), (
        "schemas/graph.schema.json is out of date: run 'python -m partita_workbench.graphs.schema .'"
    )


@pytest.mark.parametrize(
    "target",
    [str(ETL_YAML), f"{ETL_PY}:etl", f"{ETL_PY}:shapes", str(ROOT / "notebooks" / "quickstart" / "pipeline.yaml"),
     str(DATA / "pipelines" / "features" / "pipeline.yaml"), f"{DATA / 'flows' / 'simple.py'}:squares",
     str(DATA / "notebooks" / "etl" / "etl.ipynb"), str(DATA / "notebooks" / "simple_execute.ipynb")],
)
def test_documents_match_the_schema(target):
    jsonschema.Draft202012Validator(schema()).validate(graph_document(target))


def test_the_same_pipeline_as_yaml_and_as_python_gives_the_same_graph():
    yaml_doc = GraphDocument.model_validate(graph_document(str(ETL_YAML)))
    python_doc = GraphDocument.model_validate(graph_document(f"{ETL_PY}:etl"))
    assert yaml_doc.task_names() == python_doc.task_names() == ["extract", "transform", "load", "report"]
    assert yaml_doc.edge_pairs() == python_doc.edge_pairs() == ETL_EDGES
    assert yaml_doc.name == python_doc.name == "etl"
    assert yaml_doc.parameters == python_doc.parameters
    assert {t.kind for t in yaml_doc.tasks} == {t.kind for t in python_doc.tasks} == {"python"}


def test_the_graph_names_the_task_runs_of_a_real_run(client):
    from partita_workbench.pipelines import compile_pipeline
    from partita_workbench.pipelines.targets import resolve_callable

    recorded = []
    for flow in (compile_pipeline(ETL_YAML), resolve_callable(f"{ETL_PY}:etl", ETL_PY.parent)):
        state = flow(return_state=True)
        assert state.is_completed(), state.message
        recorded.append(sorted(r.name for r in client.read_task_runs(state.state_details["flow_run_id"])))
    assert recorded[0] == recorded[1] == sorted(["extract", "transform", "load", "report"])


def test_yaml_document_says_what_creates_each_edge():
    doc = graph_document(str(ETL_YAML))
    assert doc["tasks"][1] == {
        "name": "transform", "kind": "python", "location": {"path": str(ETL_YAML), "line": 10, "column": 3, "cell": None},
    }
    assert doc["parameters"] == {"day": {"type": "string", "default": "2024-05-01"}, "limit": {"type": "integer", "default": 10}}
    via = {(e["from"], e["to"]): e["via"] for e in doc["edges"]}
    assert via[("extract", "load")] == [{"kind": "needs", "name": "extract", "line": 16, "cell": None}]
    assert via[("transform", "load")] == [{"kind": "reference", "name": "tasks.transform.result", "line": 15, "cell": None}]


def test_yaml_document_kinds_and_date_parameters():
    doc = graph_document(str(DATA / "pipelines" / "features" / "pipeline.yaml"))
    kinds = {t["name"]: t["kind"] for t in doc["tasks"]}
    assert kinds["child"] == "pipeline" and kinds["stamp"] == "shell" and kinds["numbers"] == "python"
    assert doc["parameters"]["day"] == {"type": "string", "format": "date", "default": "2024-05-01"}
    assert ("total", "child") in [(e["from"], e["to"]) for e in doc["edges"]]


def test_python_document_follows_variables_wait_for_loops_and_nested_calls():
    doc = python_graph_document(ETL_PY, "etl")
    via = {(e["from"], e["to"]): e["via"] for e in doc["edges"]}
    assert via[("extract", "transform")] == [{"kind": "argument", "name": "rows", "line": 29, "cell": None}]
    assert via[("extract", "load")] == [{"kind": "needs", "name": "rows", "line": 30, "cell": None}]
    assert doc["tasks"][0]["location"] == {"path": str(ETL_PY), "line": 7, "column": 1, "cell": None}

    shapes = python_graph_document(ETL_PY, "shapes")
    assert [t["name"] for t in shapes["tasks"]] == ["shout", "shout-1", "join", "join-1", "join-2"]  # inner calls first, as run
    assert sorted((e["from"], e["to"]) for e in shapes["edges"]) == [("join", "join-2"), ("join-1", "join-2"), ("shout-1", "join")]
    assert shapes["parameters"] == {"words": {"type": "array"}, "loud": {"type": "boolean", "default": False}}


def test_python_targets_that_cannot_be_drawn(tmp_path):
    with pytest.raises(InvalidTarget, match="'not_a_flow' is not decorated with @flow"):
        graph_document(f"{ETL_PY}:not_a_flow")
    with pytest.raises(InvalidTarget, match="no function 'nope' .*; its flows are etl, shapes"):
        graph_document(f"{ETL_PY}:nope")
    bad = tmp_path / "bad.py"
    bad.write_text("def broken(:\n")
    with pytest.raises(InvalidTarget, match=r"bad.py:1:12: invalid Python"):
        graph_document(f"{bad}:broken")
    with pytest.raises(InvalidTarget, match="name the flow to draw"):
        graph_document(str(ETL_PY))


def test_invalid_pipeline_is_reported_with_positions():
    with pytest.raises(ValidationError):
        graph_document(str(DATA / "pipelines" / "invalid" / "cycle.yaml"))


def test_a_notebook_without_task_cells_is_one_notebook_task():
    notebook = DATA / "notebooks" / "simple_execute.ipynb"
    doc = graph_document(str(notebook))
    assert doc["kind"] == "notebook"
    assert [(t["name"], t["kind"]) for t in doc["tasks"]] == [("simple_execute", "notebook")]
    assert doc["edges"] == []


def test_the_same_pipeline_as_notebook_cells_gives_the_same_graph():
    notebook_doc = GraphDocument.model_validate(graph_document(str(DATA / "notebooks" / "etl" / "etl.ipynb")))
    yaml_doc = GraphDocument.model_validate(graph_document(str(ETL_YAML)))
    assert notebook_doc.task_names() == yaml_doc.task_names() == ["extract", "transform", "load", "report"]
    assert notebook_doc.edge_pairs() == yaml_doc.edge_pairs() == ETL_EDGES
    assert notebook_doc.name == "etl" and notebook_doc.kind == "notebook"
    assert {n: p.type for n, p in notebook_doc.parameters.items()} == {"day": "string", "limit": "integer"}
    jsonschema.Draft202012Validator(schema()).validate(notebook_doc.to_dict())
