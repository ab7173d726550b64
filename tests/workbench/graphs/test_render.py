"""Drawing graph documents: text, Mermaid, DOT, SVG (Graphviz or the built-in layout), JSON, with states."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET

import pytest

from partita_workbench.graphs import render
from partita_workbench.graphs import svg as svg_module

SVG = "{http://www.w3.org/2000/svg}"


def location(line):
    return {"path": "p.yaml", "line": line, "column": 3, "cell": None}


DOC = {
    "name": "etl",
    "kind": "yaml",
    "source": "p.yaml",
    "parameters": {"day": {"type": "string", "format": "date", "default": "2024-05-01"}},
    "tasks": [
        {"name": "extract", "kind": "python", "location": location(3)},
        {"name": "transform", "kind": "notebook", "location": location(5)},
        {"name": "load", "kind": "shell", "location": location(8)},
        {"name": "report", "kind": "pipeline", "location": location(11)},
    ],
    "edges": [
        {"from": "extract", "to": "load", "via": [{"kind": "needs", "name": "extract", "line": 10, "cell": None}]},
        {"from": "extract", "to": "transform", "via": [{"kind": "reference", "name": "tasks.extract.result", "line": 7, "cell": None}]},
        {"from": "load", "to": "report", "via": [{"kind": "needs", "name": "load", "line": 13, "cell": None}]},
        {"from": "transform", "to": "load", "via": [{"kind": "reference", "name": "tasks.transform.result", "line": 9, "cell": None}]},
    ],
}
STATES = {"extract": "Completed", "transform": "Cached", "load": "Failed"}


def test_text():
    assert render(DOC, "text", STATES) == (
        "etl (yaml, p.yaml)\n"
        'parameters: day (string, date) = "2024-05-01"\n'
        "  extract    [python]    Completed\n"
        "  transform  [notebook]  Cached  <- extract\n"
        "  load       [shell]     Failed  <- extract, transform\n"
        "  report     [pipeline]  <- load\n"
    )


def test_mermaid():
    text = render(DOC, "mermaid", STATES)
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    assert '    t0["extract<br/><small>python</small><br/><small>Completed</small>"]' in lines
    assert "    t0 -.-> t2" in lines  # needs: dotted
    assert '    t0 -->|"tasks.extract.result"| t1' in lines
    assert "    class t2 failed" in lines
    assert "    classDef failed fill:#f8d3d3,stroke:#b02020,color:#111" in lines
    assert not any("class t3" in line for line in lines)  # no state: no class


def test_dot():
    text = render(DOC, "dot", STATES)
    assert text.startswith('digraph "etl" {\n')
    assert '    "load" [label="load\\nshell\\nFailed", fillcolor="#f8d3d3", color="#b02020"];' in text
    assert '    "extract" -> "load" [style=dashed];' in text
    assert '    "extract" -> "transform" [label="tasks.extract.result"];' in text


def test_json_is_the_document_with_states():
    data = json.loads(render(DOC, "json", STATES))
    assert [t.get("state") for t in data["tasks"]] == ["Completed", "Cached", "Failed", None]
    assert {k: v for k, v in data.items() if k != "tasks"} == {k: v for k, v in DOC.items() if k != "tasks"}
    assert json.loads(render(DOC, "json")) == DOC


def test_builtin_svg_layout_without_graphviz(monkeypatch):
    monkeypatch.setattr(svg_module.shutil, "which", lambda name: None)
    text = render(DOC, "svg", STATES)
    root = ET.fromstring(text)
    assert root.tag == f"{SVG}svg"
    groups = {g.get("data-name"): g for g in root.iter(f"{SVG}g")}
    assert list(groups) == ["extract", "transform", "load", "report"]
    assert groups["load"].find(f"{SVG}rect").get("fill") == "#f8d3d3"
    assert groups["report"].find(f"{SVG}rect").get("fill") == "#ffffff"
    tops = {name: float(g.find(f"{SVG}rect").get("y")) for name, g in groups.items()}
    assert tops["extract"] < tops["transform"] < tops["load"] < tops["report"]  # one layer per step
    edges = [(p.get("data-from"), p.get("data-to"), p.get("stroke-dasharray")) for p in root.iter(f"{SVG}path")
             if p.get("class") == "edge"]
    assert sorted(edges) == [("extract", "load", "5 4"), ("extract", "transform", None),
                             ("load", "report", "5 4"), ("transform", "load", None)]


def test_builtin_layout_puts_independent_tasks_side_by_side(monkeypatch):
    monkeypatch.setattr(svg_module.shutil, "which", lambda name: None)
    doc = dict(DOC, edges=[], tasks=DOC["tasks"][:2])
    root = ET.fromstring(render(doc, "svg"))
    rects = [r for r in root.iter(f"{SVG}rect")]
    assert rects[0].get("y") == rects[1].get("y") and float(rects[0].get("x")) < float(rects[1].get("x"))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed; the built-in layout is tested above")
def test_svg_with_graphviz():
    root = ET.fromstring(render(DOC, "svg", STATES))
    assert root.tag == f"{SVG}svg"
    assert "transform" in ET.tostring(root, encoding="unicode")


def test_unknown_format():
    with pytest.raises(ValueError, match="unknown graph format 'png'; use one of text, mermaid, dot, svg, json"):
        render(DOC, "png")
