"""Every kind of invalid pipeline is reported as ``path:line:col: message``, all problems at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from partita.exceptions import InvalidTarget, ValidationError

from partita_workbench.pipelines import load_pipeline

INVALID = Path(__file__).parents[2] / "data" / "pipelines" / "invalid"
HERE = str(INVALID)

CASES = {
    "syntax_error.yaml": [
        "6:4: invalid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence at 5:12)",
    ],
    "duplicate_key.yaml": [
        "5:3: invalid YAML: found duplicate key \"a\" with value \"{'shell': 'echo again'}\" "
        "(original value: \"{'shell': 'echo a'}\") (while constructing a mapping at 3:3)",
    ],
    "not_a_mapping.yaml": ["1:1: a pipeline must be a mapping with 'name:' and 'tasks:' keys"],
    "missing_name.yaml": ["1:1: missing required key 'name'"],
    "unknown_key.yaml": ["7:5: unknown key 'nedds' in task 'b'; did you mean 'needs'?"],
    "unknown_parameter_type.yaml": [
        "4:11: unknown parameter type 'int'; use one of string, integer, number, boolean, array, object, date, datetime; "
        "did you mean 'integer'?",
    ],
    "default_type.yaml": ["3:35: default of parameter 'count' is the string 'three', not integer"],
    "bad_value.yaml": [
        "5:14: invalid 'retries' in task 'a': Input should be a valid integer, unable to parse string as an integer",
        "6:22: invalid 'timeout_seconds' in task 'a': Input should be greater than 0",
    ],
    "missing_kind.yaml": ["3:3: task 'a' has no kind: give one of 'python:', 'notebook:', 'shell:' or 'pipeline:'"],
    "two_kinds.yaml": ["5:5: task 'a' has more than one kind (shell, notebook): give exactly one"],
    "option_of_other_kind.yaml": ["5:5: 'with:' is for python tasks, not for notebook task 'a'"],
    "unknown_need.yaml": ["9:9: task 'load' needs unknown task 'transfrom'"],
    "unknown_task_reference.yaml": ["6:12: task 'load' refers to unknown task 'extrct'; did you mean 'extract'?"],
    "unknown_parameter_reference.yaml": [
        "8:12: task 'report' refers to unknown parameter 'dates'; did you mean 'date'?",
    ],
    "invalid_expression.yaml": [
        "6:12: '${{ params.n + }}' in task 'a': invalid expression: unexpected 'end of print statement'",
    ],
    "unknown_name.yaml": [
        "4:12: '${{ parms.n }}' in task 'a': unknown name 'parms'; an expression starts from params, tasks, item, "
        "env or run; did you mean 'params'?",
        "6:12: '${{ tasks.a }}' in task 'b': write tasks.a.result to use the result of task 'a'",
        "8:12: '${{ run.started }}' in task 'c': unknown run field 'started'; use run.id or run.scheduled_start",
    ],
    "unknown_filter.yaml": ["6:12: '${{ params.day | dat('%Y') }}' in task 'a': unknown filter 'dat'; did you mean 'date'?"],
    "cycle.yaml": ["3:3: dependency cycle: a -> c -> b -> a (each task needs the next one)"],
    "self_dependency.yaml": ["3:3: dependency cycle: a -> a (each task needs the next one)"],
    "missing_notebook.yaml": [
        f"4:15: notebook file 'reports/missing.ipynb' not found (looked for {HERE}/reports/missing.ipynb)",
    ],
    "broken_notebooks.yaml": [
        "4:15: notebook file 'notebooks/broken.ipynb' of task 'broken' is not valid JSON (line 3, column 26 of the "
        "file: Expecting property name enclosed in double quotes); repair it or restore it from version control, "
        "then check that it opens in Jupyter",
        "6:15: notebook file 'notebooks/data.ipynb' of task 'table' is not a Jupyter notebook (a notebook is JSON with "
        "an 'nbformat' version and a 'cells' list); name an .ipynb file saved by Jupyter",
        "7:23: notebook file 'notebooks/list.ipynb' of task 'numbers' is not a Jupyter notebook (a notebook is JSON "
        "with an 'nbformat' version and a 'cells' list); name an .ipynb file saved by Jupyter",
        "9:15: notebook file 'notebooks/binary.ipynb' of task 'binary' cannot be read (UnicodeDecodeError: 'utf-8' "
        "codec can't decode byte 0xff in position 0: invalid start byte); check that it is a notebook saved by "
        "Jupyter and readable by you",
        "11:15: notebook file 'notebooks/broken.ipynb' of task 'again' is not valid JSON (line 3, column 26 of the "
        "file: Expecting property name enclosed in double quotes); repair it or restore it from version control, "
        "then check that it opens in Jupyter",
    ],
    "missing_module.yaml": [
        "4:13: task 'a': cannot import 'no_such_module_here': ModuleNotFoundError: No module named 'no_such_module_here'",
    ],
    "missing_function.yaml": ["4:13: task 'a': 'steps' has no attribute 'ad'; did you mean 'add'?"],
    "missing_file.yaml": [
        f"4:13: task 'a': python file 'lib/helpers.py' not found (looked for {HERE}/lib/helpers.py)",
    ],
    "map_not_a_list.yaml": [
        "7:10: 'map:' of task 'literal' must be a list, or an expression giving a list, not int",
        "10:10: 'map:' of task 'parameter' is over parameter 'count' of type integer, not a list (type: array)",
        "13:10: 'map:' of task 'text' must be a list, or one ${{ ... }} expression giving a list, not the text 'a, b, c'",
    ],
    "item_without_map.yaml": [
        "4:12: task 'a' uses 'item' but has no 'map:'; 'item' is the current item of a map",
        "7:10: 'map:' of task 'b' cannot use 'item': it is what defines the items",
    ],
    "bad_cache.yaml": [
        "3:11: unknown key 'polcy' in 'defaults:'; did you mean 'policy'?",
        "7:21: invalid 'policy' in task 'a': unknown cache policy 'inptus'; use default, none, source, inputs, "
        "upstream, parameters, run_id; did you mean 'inputs'?",
        "10:25: invalid 'expiration' in task 'b': 'soon' is not a duration; write seconds (3600) or a number with "
        "s, m, h or d ('30m', '7d')",
        "13:12: invalid 'cache' in task 'c': expected true, false, or a mapping with 'policy:' and 'expiration:', not str",
    ],
    "bad_options.yaml": [
        "3:30: default of parameter 'day' is the string 'May 1st', not an ISO 8601 date (YYYY-MM-DD)",
        "5:10: invalid 'PATHS' in 'env:': Input should be a valid string",
        "9:5: 'outputs:' is for shell tasks, not for python task 'a'",
        "12:9: invalid 'if' in task 'b': expected an expression or a boolean, not int",
        "13:30: invalid 'retry_delay_seconds' in task 'b': Input should be a valid number, unable to parse string as a number",
    ],
    "subpipelines.yaml": [
        f"4:15: pipeline file 'sub/missing.yaml' of task 'missing' not found (looked for {HERE}/sub/missing.yaml)",
        "9:7: pipeline 'sub/child.yaml' has no parameter 'dya'; did you mean 'day'?",
        "11:15: task 'no-parameters' must give the required parameter(s) day of pipeline 'sub/child.yaml' under 'parameters:'",
        f"13:15: task 'broken': pipeline 'sub/broken_child.yaml' is invalid: {HERE}/sub/broken_child.yaml:4:12: "
        "task 'a' refers to unknown task 'nope'",
        f"15:15: task 'loop': pipeline 'sub/loop.yaml' is invalid: {HERE}/sub/loop.yaml:4:15: task 'back': pipeline "
        "files include each other (subpipelines.yaml -> loop.yaml -> subpipelines.yaml)",
    ],
    "custom_tag.yaml": ["4:12: YAML tag '!env' is not supported in a pipeline; write the value without it"],
    "many_problems.yaml": [
        "9:12: task 'greet' refers to unknown parameter 'whom'; did you mean 'who'?",
        "13:12: task 'show' refers to unknown task 'greeet'; did you mean 'greet'?",
        "14:5: unknown key 'retires' in task 'show'; did you mean 'retries'?",
        "15:3: task 'list' has no kind: give one of 'python:', 'notebook:', 'shell:' or 'pipeline:'",
    ],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_invalid_pipeline_reports_each_problem_with_its_position(name):
    path = INVALID / name
    with pytest.raises(ValidationError) as caught:
        load_pipeline(path)
    assert caught.value.problems == [f"{path}:{line}" for line in CASES[name]]


def test_every_invalid_file_has_a_case():
    assert sorted(p.name for p in INVALID.glob("*.yaml")) == sorted(CASES)


def test_positions_are_looked_up_only_for_invalid_files(monkeypatch, pipelines_dir):
    from partita_workbench.pipelines import loader

    def refuse(text):
        raise AssertionError("a valid file was parsed with positions")

    monkeypatch.setattr(loader, "parse_yaml", refuse)
    assert load_pipeline(pipelines_dir / "references.yaml").name == "references"


def test_fast_and_positioned_loaders_read_the_same_data():
    from partita_workbench.pipelines.yamlio import load_plain, parse_yaml, to_plain

    text = "a: yes\nb: 010\nc: 1:20\nd: 2024-05-01\ne: on\nf: 0o10\ng: 1_000\nh: 2024-05-01T10:00:00Z\ni: [1, {j: null}]\n"
    assert load_plain(text) == to_plain(parse_yaml(text))
    assert load_plain(text)["d"] == "2024-05-01" and load_plain(text)["a"] == "yes"


def test_message_lists_the_count_then_the_problems():
    path = INVALID / "many_problems.yaml"
    with pytest.raises(ValidationError) as caught:
        load_pipeline(path)
    lines = str(caught.value).splitlines()
    assert lines[0] == "4 problems found:"
    assert lines[1:] == caught.value.problems


def test_problems_name_the_path_as_given(monkeypatch):
    monkeypatch.chdir(INVALID.parent)
    with pytest.raises(ValidationError) as caught:
        load_pipeline("invalid/missing_kind.yaml")
    assert caught.value.problems[0].startswith("invalid/missing_kind.yaml:3:3: ")


def test_missing_pipeline_file_is_an_invalid_target(tmp_path):
    with pytest.raises(InvalidTarget, match="pipeline file '.*nope.yaml' not found"):
        load_pipeline(tmp_path / "nope.yaml")


def test_empty_file_is_reported(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing here\n")
    with pytest.raises(ValidationError) as caught:
        load_pipeline(path)
    assert caught.value.problems == [f"{path}:1:1: a pipeline must be a mapping with 'name:' and 'tasks:' keys"]


def test_valid_pipeline_loads_with_dependencies_and_order(pipelines_dir):
    pipeline = load_pipeline(pipelines_dir / "references.yaml")
    assert pipeline.name == "references"
    assert pipeline.folder == pipelines_dir
    assert pipeline.dependencies["describe"] == {"numbers", "total"}
    assert pipeline.dependencies["async"] == {"by-file"}
    assert pipeline.order == ("numbers", "total", "describe", "quoted", "by-file", "async")
    assert list(pipeline.spec.tasks) == ["describe", "total", "numbers", "quoted", "by-file", "async"]
    assert pipeline.spec.tasks["numbers"].kind == "python"
    assert pipeline.spec.parameters["count"].required is False


def test_a_notebook_repaired_after_a_failed_validation_is_read_again(tmp_path):
    (tmp_path / "nb.ipynb").write_text("{oops")
    (tmp_path / "p.yaml").write_text("name: p\ntasks:\n  a: {notebook: nb.ipynb}\n")
    with pytest.raises(ValidationError, match="is not valid JSON"):
        load_pipeline(tmp_path / "p.yaml")
    (tmp_path / "nb.ipynb").write_text('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}')
    assert load_pipeline(tmp_path / "p.yaml").name == "p"


def test_validation_does_not_import_nbformat(tmp_path):
    import shutil
    import subprocess
    import sys

    shutil.copy(INVALID.parent.parent / "notebooks" / "simple_execute.ipynb", tmp_path / "nb.ipynb")
    (tmp_path / "p.yaml").write_text("name: p\ntasks:\n  a: {notebook: nb.ipynb, parameters: {msg: hi}}\n")
    code = (
        "import sys\nfrom partita_workbench.pipelines import load_pipeline\n"
        f"load_pipeline({str(tmp_path / 'p.yaml')!r})\nprint('nbformat' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False"]
