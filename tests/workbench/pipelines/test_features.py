"""map:, if:, pipeline: subflows, outputs:, defaults, env and run values, on the real engine."""

from __future__ import annotations

import datetime as dt
import inspect
import shutil
from pathlib import Path

import pytest

from partita_workbench.pipelines import compile_pipeline
from partita_workbench.pipelines.steps import MissingOutputError

FEATURES = Path(__file__).parents[2] / "data" / "pipelines" / "features"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(FEATURES, tmp_path / "features")
    monkeypatch.chdir(tmp_path / "features")  # python tasks run in the process's directory
    return tmp_path / "features"


@pytest.fixture
def ran(project, client):
    """The features pipeline run once: (flow-run state, {task run name: (state name, record)})."""
    flow = compile_pipeline(project / "pipeline.yaml")
    state = flow(return_state=True)
    runs = {}
    for record in client.read_task_runs(state.state_details["flow_run_id"]):
        runs[record.name] = (client.read_task_run_states(record.id)[-1], record)
    return state, runs


def test_parameters_of_date_type(project):
    flow = compile_pipeline(project / "pipeline.yaml")
    parameters = inspect.signature(flow.fn).parameters
    assert (parameters["day"].annotation, parameters["day"].default) == (dt.date, dt.date(2024, 5, 1))


def test_map_fans_out_and_gathers_results_in_order(ran):
    state, runs = ran
    assert state.is_completed(), state.message
    results = state.result()
    assert results["squares"] == [0, 1, 4]
    assert results["total"] == 5
    assert results["words"] == ["a-hello", "b-hello"]
    assert results["literal"] == ["x", "y"]
    assert results["nothing"] == []
    assert sorted(name for name in runs if name.startswith("squares")) == ["squares", "squares-1", "squares-2"]
    assert not any(name.startswith("nothing") for name in runs)


def test_if_false_skips_with_completed_skipped_and_downstream_sees_null(ran):
    state, runs = ran
    final, _ = runs["maybe"]
    assert (final.type.value, final.name) == ("COMPLETED", "Skipped")
    assert final.message == "skipped: 'if: ${{ params.enabled }}' is false"
    assert state.result()["maybe"] is None
    assert state.result()["after-maybe"] == {"maybe": None}


def test_if_true_runs(project):
    results = compile_pipeline(project / "pipeline.yaml")(enabled=True)
    assert results["maybe"] == "ran"


def test_outputs_become_the_result_as_absolute_paths(ran, project):
    results = ran[0].result()
    assert results["files"] == [str(project / "out" / "one.txt"), str(project / "out" / "two.txt")]
    assert results["named"] == {"report": str(project / "named.txt")}


def test_missing_output_fails_the_task(tmp_path, task_run_states):
    (tmp_path / "p.yaml").write_text("name: missing-output\ntasks:\n  a: {shell: 'true', outputs: [nothing.txt]}\n")
    state = compile_pipeline(tmp_path / "p.yaml")(return_state=True)
    assert state.is_failed()
    with pytest.raises(MissingOutputError):
        state.result()
    name, message = task_run_states(state)["a"]
    assert name == "Failed"
    assert message == (
        f"MissingOutputError: task 'a' did not write its output(s) 'nothing.txt' (looked for {tmp_path}/nothing.txt); "
        "check the command or 'outputs:'"
    )


def test_env_reaches_shell_tasks_and_expressions(ran):
    assert ran[0].result()["stamp"] == "hello task 01/05/2024"


def test_defaults_apply_to_every_task_and_tags_combine(ran):
    _, runs = ran
    final, flaky = runs["flaky"]
    assert final.name == "Completed" and flaky.run_count == 2  # retries: 2 from defaults
    assert set(runs["squares"][1].tags) == {"nightly", "fan-out"}
    assert runs["numbers"][1].tags == ["nightly"]


def test_run_values(ran):
    state, _ = ran
    info = state.result()["run-info"]
    assert info["id"] == state.state_details["flow_run_id"]
    assert isinstance(info["start"], dt.datetime) and info["start"].tzinfo is not None
    assert info["day"] == dt.date(2024, 5, 1)


def test_pipeline_task_runs_a_subflow_with_its_parameters(ran, client):
    state, runs = ran
    assert state.result()["child"] == {"describe": "2024 5"}
    child_runs = [r for r in client.read_flow_runs() if r.parent_task_run_id is not None and r.flow_name == "child"]
    assert any(r.state_name == "Completed" for r in child_runs)


def test_map_over_a_result_that_is_not_a_list_fails_that_task(tmp_path, task_run_states):
    (tmp_path / "steps_five.py").write_text("def five():\n    return 5\n")
    (tmp_path / "p.yaml").write_text(
        "name: map-over-int\ntasks:\n"
        "  x: {python: 'steps_five:five'}\n"
        "  m: {shell: 'echo ${{ item }}', map: '${{ tasks.x.result }}'}\n"
        "  after: {shell: 'echo ${{ tasks.m.result }}'}\n"
    )
    state = compile_pipeline(tmp_path / "p.yaml")(return_state=True)
    assert state.is_failed()
    states = task_run_states(state)
    assert states["m"] == ("Failed", "ExpressionError: 'map:' of task 'm' gave int, not a list: '${{ tasks.x.result }}'")
    assert states["after"][0] == "NotReady"


def test_map_after_a_failed_upstream_is_not_ready(tmp_path, task_run_states):
    (tmp_path / "p.yaml").write_text(
        "name: map-after-failure\ntasks:\n"
        "  x: {shell: 'exit 1'}\n"
        "  m: {shell: 'echo ${{ item }}', map: '${{ tasks.x.result }}'}\n"
    )
    state = compile_pipeline(tmp_path / "p.yaml")(return_state=True)
    assert state.is_failed()
    assert task_run_states(state)["m"][0] == "NotReady"


def test_expression_error_at_run_time_fails_the_task_naming_the_expression(tmp_path, task_run_states):
    (tmp_path / "p.yaml").write_text(
        "name: bad-index\ntasks:\n"
        "  x: {shell: 'echo 1'}\n"
        "  y: {shell: 'echo ${{ tasks.x.result.rows[0] + 1 }}'}\n"
    )
    state = compile_pipeline(tmp_path / "p.yaml")(return_state=True)
    name, message = task_run_states(state)["y"]
    assert name == "Failed"
    assert message.startswith("ExpressionError: cannot evaluate '${{ tasks.x.result.rows[0] + 1 }}': UndefinedError")


def test_tasks_independent_of_a_pending_map_run_meanwhile(tmp_path):
    (tmp_path / "p.yaml").write_text(
        "name: map-waits\n"
        "defaults: {cache: false}\n"
        "tasks:\n"
        "  slow: {python: 'pipeline_steps:stamp', with: {label: slow, sleep: 1}}\n"
        "  first: {python: 'pipeline_steps:stamp', with: {label: first}}\n"
        "  fan: {python: 'pipeline_steps:stamp', map: '${{ [tasks.slow.result.label] }}', with: {label: '${{ item }}'}}\n"
        "  later: {python: 'pipeline_steps:stamp', with: {label: later}, needs: [first]}\n"
    )
    shutil.copy(FEATURES.parent / "pipeline_steps.py", tmp_path / "pipeline_steps.py")
    results = compile_pipeline(tmp_path / "p.yaml")()
    assert results["later"]["end"] < results["slow"]["end"]  # not held back until the map could expand
    assert [r["label"] for r in results["fan"]] == ["slow"]
    assert results["fan"][0]["start"] >= results["slow"]["end"]


def test_env_of_a_task_reaches_its_expressions_whatever_its_kind(tmp_path):
    (tmp_path / "p.yaml").write_text(
        "name: env-kinds\nenv: {WHO: pipeline}\n"
        "tasks:\n"
        "  py: {python: 'pipeline_steps:echo_kwargs', with: {who: '${{ env.WHO }}', level: '${{ env.LEVEL }}'}, env: {LEVEL: task}}\n"
    )
    shutil.copy(FEATURES.parent / "pipeline_steps.py", tmp_path / "pipeline_steps.py")
    assert compile_pipeline(tmp_path / "p.yaml")()["py"] == {"who": "pipeline", "level": "task"}
