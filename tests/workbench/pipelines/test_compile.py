"""Compiled pipelines run on the real engine: references, order, concurrency, shell tasks."""

from __future__ import annotations

import inspect
import time

import pytest

from partita.exceptions import ParameterTypeError

from partita_workbench.pipelines import compile_pipeline, load_pipeline
from partita_workbench.pipelines.shell import ShellCommandError


def test_flow_is_named_after_the_pipeline_with_typed_parameters(pipelines_dir):
    flow = compile_pipeline(load_pipeline(pipelines_dir / "references.yaml"))
    assert flow.name == "references"
    parameters = inspect.signature(flow.fn).parameters
    assert {name: (p.annotation, p.default) for name, p in parameters.items()} == {
        "count": (int, 2),
        "label": (str, "it's"),
        "flags": (list, [1, 2]),
        "enabled": (bool, True),
    }


def test_references_pass_values_with_their_types(pipelines_dir, task_run_states):
    flow = compile_pipeline(pipelines_dir / "references.yaml")
    state = flow(count=3, label="it's here", return_state=True)
    assert state.is_completed(), state.message
    results = state.result()
    assert results["numbers"] == [0, 1, 2]
    assert results["total"] == 3
    assert results["describe"] == {
        "whole_param": 3,
        "whole_result": [0, 1, 2],
        "embedded": "n=3 values=[0, 1, 2] on=true",
        "nested": {"items": [3, [1, 2], "plain"]},
    }
    assert results["quoted"] == "it's here|3|"  # the parameter reached printf as one word
    assert results["by-file"] == 6
    assert results["async"] == 12
    assert set(task_run_states(state)) == {"numbers", "total", "describe", "quoted", "by-file", "async"}


def test_parameters_are_validated_by_type(pipelines_dir):
    flow = compile_pipeline(pipelines_dir / "references.yaml")
    with pytest.raises(ParameterTypeError, match="'count'"):
        flow(count="many")


def test_required_parameter(tmp_path):
    (tmp_path / "p.yaml").write_text(
        "name: required\nparameters:\n  who: {type: string}\ntasks:\n  a: {shell: 'echo ${{ params.who }}'}\n"
    )
    flow = compile_pipeline(tmp_path / "p.yaml")
    assert inspect.signature(flow.fn).parameters["who"].default is inspect.Parameter.empty
    with pytest.raises(ParameterTypeError, match="who"):
        flow()
    assert flow(who="you") == {"a": "you"}


def test_needs_orders_tasks(pipelines_dir):
    results = compile_pipeline(pipelines_dir / "ordering.yaml")()
    assert results["second"]["start"] >= results["first"]["end"]


def test_independent_tasks_run_concurrently(pipelines_dir):
    flow = compile_pipeline(pipelines_dir / "concurrent.yaml")
    flow()  # warm up the embedded backend so the timing below is the tasks'
    started = time.perf_counter()
    results = flow()
    elapsed = time.perf_counter() - started
    left, right = results["left"], results["right"]
    assert max(left["start"], right["start"]) < min(left["end"], right["end"])  # they overlapped
    assert elapsed < 1.8, f"two 1 s tasks took {elapsed:.2f} s"
    assert results["both"] == {"left": left, "right": right}


def test_failing_shell_command_fails_with_exit_code_and_stderr(pipelines_dir, task_run_states):
    flow = compile_pipeline(pipelines_dir / "shell_failure.yaml")
    state = flow(return_state=True)
    assert state.is_failed()
    with pytest.raises(ShellCommandError) as caught:
        state.result()
    assert caught.value.returncode == 3
    assert caught.value.stderr_tail == ["first problem", "second problem"]
    name, message = task_run_states(state)["fail"]
    assert name == "Failed"
    assert message.startswith("ShellCommandError: shell command exited with code 3: echo to stdout;")
    assert message.endswith("last lines of stderr:\nfirst problem\nsecond problem")


def test_shell_runs_in_the_pipeline_folder(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "p.yaml").write_text(
        "name: where\ntasks:\n  here: {shell: pwd}\n  there: {shell: pwd, cwd: sub}\n"
    )
    monkeypatch.chdir("/")
    results = compile_pipeline(tmp_path / "p.yaml")()
    assert results == {"here": str(tmp_path), "there": str(tmp_path / "sub")}


def test_same_module_name_in_two_pipeline_folders(tmp_path):
    for folder, word in (("one", "first"), ("two", "second")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "shared_name_steps.py").write_text(f"def word():\n    return {word!r}\n")
        (tmp_path / folder / "p.yaml").write_text(f"name: {folder}\ntasks:\n  w: {{python: 'shared_name_steps:word'}}\n")
    assert compile_pipeline(tmp_path / "one" / "p.yaml")() == {"w": "first"}
    assert compile_pipeline(tmp_path / "two" / "p.yaml")() == {"w": "second"}


def test_the_same_shell_command_in_another_folder_is_not_taken_from_the_cache(tmp_path):
    """Run one after the other, so the second would find the first's result if the folder were not in the key."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "p.yaml").write_text(
        "name: where\ntasks:\n  here: {shell: pwd}\n  there: {shell: pwd, cwd: sub, needs: [here]}\n"
    )
    flow = compile_pipeline(tmp_path / "p.yaml")
    assert flow() == {"here": str(tmp_path), "there": str(tmp_path / "sub")}
    assert flow() == {"here": str(tmp_path), "there": str(tmp_path / "sub")}  # and again from the cache


def test_a_shell_pipeline_moved_to_another_folder_runs_again(tmp_path):
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "p.yaml").write_text("name: where\ntasks:\n  here: {shell: pwd}\n")
    assert compile_pipeline(tmp_path / "one" / "p.yaml")() == {"here": str(tmp_path / "one")}
    assert compile_pipeline(tmp_path / "two" / "p.yaml")() == {"here": str(tmp_path / "two")}
