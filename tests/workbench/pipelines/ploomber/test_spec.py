"""Reading Ploomber specs: detection, the reference pipeline.yaml files, and every problem with its position."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from partita.exceptions import ValidationError
from partita_workbench.pipelines.ploomber import (
    graph_document,
    is_ploomber_file,
    is_ploomber_spec,
    load_ploomber,
    ploomber_problems,
)

PLOOMBER = Path(__file__).parents[3] / "data" / "ploomber"
CASES = Path(__file__).parents[3] / "data" / "cases"
INVALID = PLOOMBER / "invalid"
PIPELINES = Path(__file__).parents[3] / "data" / "pipelines"


def problems(name: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.chdir(INVALID)  # problems name files as given / relative to the working directory
    return ploomber_problems(name)


def test_detects_ploomber_specs_and_not_partita_pipelines():
    assert is_ploomber_spec([{"source": "a.py", "product": "a.ipynb"}])
    assert is_ploomber_spec({"tasks": [{"source": "a.py"}]})
    assert is_ploomber_spec({"meta": {"extract_upstream": False}})
    assert not is_ploomber_spec({"name": "p", "tasks": {"a": {"shell": "echo"}}})
    assert not is_ploomber_spec({"name": "p", "tasks": [{"shell": "echo"}]})  # a Partita pipeline with a mistake
    assert not is_ploomber_spec("text")
    found = {p.relative_to(CASES).as_posix() for p in CASES.rglob("*.y*ml") if is_ploomber_file(p)}
    assert found == {
        "ploomber-projects-report-generation/pipeline.yaml",
        "ploomber-tests-assets-nbs/pipeline.yaml",
        "ploomber-tests-assets-nbs/pipeline.extract-upstream.yaml",
    }
    assert not any(is_ploomber_file(p) for p in PIPELINES.glob("*.yaml"))


def _stub_script(path: Path, upstream: list[str] | None, writes: list[str]) -> None:
    lines = ['# %% tags=["parameters"]', f"upstream = {upstream!r}", "product = None", "", "# %%"]
    lines += [f"open(product[{key!r}], 'w').write({key!r})" for key in writes]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def test_reference_specs_load_once_their_scripts_exist(tmp_path: Path):
    """The case files are used unchanged; only their (omitted) task scripts are written here."""
    folder = tmp_path / "nbs"
    folder.mkdir()
    for name in ("pipeline.yaml", "pipeline.extract-upstream.yaml", "env.yaml"):
        shutil.copy(CASES / "ploomber-tests-assets-nbs" / name, folder / name)
    _stub_script(folder / "load.py", None, ["data"])
    _stub_script(folder / "clean.py", ["load"], ["data"])
    _stub_script(folder / "plot.py", ["clean"], [])

    explicit = load_ploomber(folder / "pipeline.yaml")  # meta.extract_upstream: False, upstream in the YAML
    assert {n: t.upstream for n, t in explicit.tasks.items()} == {"load": (), "clean": ("load",), "plot": ("clean",)}
    assert explicit.tasks["plot"].product == str(folder / "output" / "plot.ipynb")
    assert explicit.tasks["clean"].product == {"nb": str(folder / "output/clean.ipynb"), "data": str(folder / "output/clean.csv")}

    inferred = load_ploomber(folder / "pipeline.extract-upstream.yaml")  # names from sources, upstream from scripts
    assert {n: t.upstream for n, t in inferred.tasks.items()} == {"load": (), "clean": ("load",), "plot": ("clean",)}
    assert inferred.env["sample"] is False  # an unused env.yaml key is accepted


def test_report_generation_spec_keys_are_understood(tmp_path: Path):
    folder = tmp_path / "report"
    folder.mkdir()
    shutil.copy(CASES / "ploomber-projects-report-generation" / "pipeline.yaml", folder)
    _stub_script(folder / "tasks" / "script.py", None, [])
    _stub_script(folder / "tasks" / "download.py", None, ["data"])
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nbformat.write(
        new_notebook(cells=[new_code_cell("upstream = None\nproduct = None", metadata={"tags": ["parameters"]})]),
        str(folder / "tasks" / "notebook.ipynb"),
    )
    pipeline = load_ploomber(folder / "pipeline.yaml")
    tasks = pipeline.tasks
    assert list(tasks) == ["html-report", "another-html-report", "webpdf-report", "pdf-report", "no-report"]
    assert tasks["no-report"].runner == "ScriptRunner"
    assert tasks["webpdf-report"].exporter == "webpdf"
    assert tasks["another-html-report"].export_kwargs == {
        "exclude_input": True,
        "config": {
            "HTMLExporter": {"preprocessors": ["nbconvert.preprocessors.TagRemovePreprocessor"]},
            "TagRemovePreprocessor": {"remove_cell_tags": ["boxplot"]},
        },
    }
    assert tasks["pdf-report"].notebook_product == str(folder / "reports" / "report.pdf")


def test_unsupported_keys_sources_and_classes_are_named(monkeypatch):
    assert problems("unsupported.yaml", monkeypatch) == [
        "unsupported.yaml:1:1: unsupported Ploomber key 'clients': Partita does not support database clients (SQL tasks); remove it",
        "unsupported.yaml:4:3: unsupported Ploomber key 'source_loader' in 'meta': Partita does not support loading sources from a package; remove it",
        "unsupported.yaml:7:13: unsupported source 'queries/clean.sql' in task 'clean': Partita does not run SQL tasks; use a .py script, a .ipynb notebook or a function",
        "unsupported.yaml:9:13: task 'get_data': function 'functions.get_data': cannot import 'functions': ModuleNotFoundError: No module named 'functions'",
        "unsupported.yaml:12:12: unsupported task class 'SQLDump' in task 'ok': Partita runs NotebookRunner, ScriptRunner, PythonCallable tasks",
        "unsupported.yaml:17:5: unsupported Ploomber key 'on_finish' in task 'hooked': Partita does not support task hooks; remove it",
        "unsupported.yaml:20:20: unsupported product class 'SQLRelation' in task 'other-product': Partita writes File products only",
    ]


def test_unknown_keys_types_and_products(monkeypatch):
    assert problems("keys.yaml", monkeypatch) == [
        "keys.yaml:2:3: unknown key 'extract_upstreams' in 'meta'; did you mean 'extract_upstream'?",
        "keys.yaml:3:20: 'meta.extract_product' must be true or false",
        "keys.yaml:4:11: unsupported executor 'dask': use 'serial' or 'parallel'",
        "keys.yaml:6:5: task 'ok' needs 'product:' (meta.extract_product is false)",
        "keys.yaml:7:5: unknown key 'prodcut' in task 'ok'; did you mean 'product'?",
        "keys.yaml:11:7: 'product' of notebook task 'both' needs an 'nb' key: the path of the executed notebook",
        f"keys.yaml:12:13: source file 'missing.py' of task 'gone' not found (looked for {INVALID / 'missing.py'})",
        "keys.yaml:17:14: the executed notebook of task 'text' is written to 'output/text.txt', and nbconvert has no "
        "exporter for '.txt': use .ipynb, .html, .pdf, .md, .tex, .rst, .py or set nbconvert_exporter_name "
        "(other outputs go under a 'product:' mapping next to 'nb:')",
    ]


def test_upstream_problems_point_into_the_scripts(monkeypatch):
    assert problems("upstream.yaml", monkeypatch) == [
        "upstream.yaml:13:5: task 'declared-here' declares 'upstream:' but meta.extract_upstream is true (read from the source); "
        "set meta.extract_upstream: false or remove it",
        "computed_upstream.py:2:12: task 'computed_upstream': 'upstream' in the parameters cell of 'computed_upstream.py' "
        "must be a literal (a list, dict, string or None)",
        "no_parameters.py:1:1: task 'no_parameters': 'no_parameters.py' has no cell tagged 'parameters'; add one "
        "(mark it with # %% tags=[\"parameters\"]) declaring upstream = [...] and product = None, as Ploomber requires",
        "uses_unknown.py:5:1: task 'uses_unknown' uses unknown upstream task 'declared_here'; did you mean 'declared-here'?",
    ]


def test_function_task_problems(monkeypatch):
    assert problems("functions.yaml", monkeypatch) == [
        "functions.yaml:6:12: task 'not-a-function' of class PythonCallable needs a dotted path to a function as 'source:'",
        "functions.yaml:8:13: task 'missing_function': function 'helpers.missing_function': 'helpers' has no attribute 'missing_function'",
        "functions.yaml:12:5: 'kernelspec_name' is for notebook and script tasks, not for function task 'double'",
    ]


def test_cycles_and_duplicate_names(monkeypatch):
    assert problems("graph.yaml", monkeypatch) == [
        "graph.yaml:2:5: dependency cycle: cycle_a -> cycle_b -> cycle_a (each task uses the next one's products)",
        "graph.yaml:8:5: duplicate task name 'ok' (first at line 6); give each task its own 'name:'",
    ]


def test_grid_placeholders_and_wildcards(monkeypatch):
    assert problems("grid.yaml", monkeypatch) == [
        "grid.yaml:4:5: task with 'grid:' needs 'name:' (tasks are named '<name><index>')",
        "grid.yaml:11:11: 'grid' of task 'bad-grid-' must map parameter names to lists of values (or be a list of such mappings)",
        "grid.yaml:12:5: unknown placeholder '{{missing_key}}' in task 'fan-in': define it in env.yaml beside the pipeline",
        "grid.yaml:15:16: upstream pattern 'nothing-*' of task 'fan-in' matches no task",
        "grid.yaml:17:7: 'params' of task 'fan-in' cannot set 'product': it is injected from the task's declaration",
    ]


def test_yaml_syntax_error(monkeypatch):
    assert problems("syntax.yaml", monkeypatch) == [
        "syntax.yaml:4:1: invalid YAML: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence at 3:14)"
    ]


def test_load_raises_one_validation_error_with_all_problems(monkeypatch):
    monkeypatch.chdir(INVALID)
    with pytest.raises(ValidationError) as info:
        load_ploomber("graph.yaml")
    assert str(info.value).splitlines()[0] == "2 problems found:"


def test_graph_document_has_the_canonical_form():
    document = graph_document(PLOOMBER / "basic" / "pipeline.yaml")
    assert document["name"] == "basic" and document["kind"] == "yaml" and document["parameters"] == {}
    assert [(t["name"], t["kind"], t["location"]["line"]) for t in document["tasks"]] == [
        ("load", "notebook", 5),
        ("clean", "notebook", 12),
        ("report", "notebook", 17),
    ]
    assert document["edges"] == [
        {"from": "clean", "to": "report", "via": [{"kind": "variable", "name": "upstream", "line": 1, "cell": 2}]},
        {"from": "load", "to": "clean", "via": [{"kind": "variable", "name": "upstream", "line": 5, "cell": 1}]},
    ]
    json.dumps(document)  # JSON-able


def test_function_tasks_in_the_graph_document():
    document = graph_document(PLOOMBER / "functions" / "pipeline.yaml")
    assert [(t["name"], t["kind"]) for t in document["tasks"]] == [("make_numbers", "python"), ("total", "python"), ("report", "notebook")]
    assert document["edges"][0] == {
        "from": "make_numbers", "to": "total", "via": [{"kind": "argument", "name": "upstream", "line": 12, "cell": None}],
    }


def test_yaml_upstream_edges_are_needs():
    document = graph_document(PLOOMBER / "grid" / "pipeline.yaml")
    into_combine = [e for e in document["edges"] if e["to"] == "combine"]
    assert [e["from"] for e in into_combine] == ["cube-2", "cube-3", "square-0", "square-1", "square-2"]
    assert into_combine[0]["via"] == [{"kind": "needs", "name": "cube-2", "line": 28, "cell": None}]


def test_env_yaml_problems_and_overrides(tmp_path: Path):
    folder = tmp_path / "p"
    shutil.copytree(PLOOMBER / "grid", folder)
    assert load_ploomber(folder / "pipeline.yaml", env={"title": "T"}).tasks["combine"].params == {"title": "T"}
    with pytest.raises(ValidationError) as info:
        load_ploomber(folder / "pipeline.yaml", env={"colour": "red"})
    assert info.value.problems == [
        f"{folder / 'env.yaml'}:1:1: unknown parameter(s) colour: a Ploomber pipeline's parameters are the keys of its env.yaml"
    ]
    (folder / "env.yaml").write_text("title: [unclosed\n")
    [problem] = ploomber_problems(folder / "pipeline.yaml")
    assert problem.startswith(f"{folder / 'env.yaml'}:2:1: invalid YAML:")
    assert graph_document(PLOOMBER / "grid" / "pipeline.yaml")["parameters"] == {"title": {"type": "string", "default": "Powers"}}
