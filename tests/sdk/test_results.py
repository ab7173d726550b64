"""Persisted results: written through fsspec, loaded back in a later process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from partita import State, flow, task
from partita.exceptions import MissingResult
from partita.results import load_result, persist_result


@task(persist_result=True)
def make_table(n: int):
    return {"rows": list(range(n)), "label": "ü-ok"}


@task
def not_persisted():
    return object()


def test_persisted_result_reloads_in_a_later_process(client, partita_home):
    @flow
    def producer():
        return make_table(4)

    state = producer(return_state=True)
    task_run = client.read_task_runs(state.state_details["flow_run_id"])[0]
    record = task_run.state.data
    assert record["serializer"] == "cloudpickle"
    assert record["storage_key"].startswith(str(partita_home / "storage"))
    assert Path(record["storage_key"]).is_file()
    code = (
        "import json, sys; from partita import State; "
        "print(json.dumps(State.from_json(json.loads(sys.argv[1])).result()))"
    )
    out = subprocess.run([sys.executable, "-c", code, json.dumps(task_run.state.model_dump(mode="json"))],
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == {"rows": [0, 1, 2, 3], "label": "ü-ok"}


def test_flow_persist_result_applies_to_its_tasks_and_itself(client):
    @task
    def small():
        return 7

    @flow(persist_result=True)
    def f():
        return small() * 6

    state = f(return_state=True)
    run = client.read_flow_run(state.state_details["flow_run_id"])
    assert load_result(run.state.data) == 42
    assert State.from_json(run.state.model_dump(mode="json")).result() == 42
    tr = client.read_task_runs(run.id)[0]
    assert load_result(tr.state.data) == 7


def test_unpersisted_result_in_another_process_says_what_to_do(client):
    @flow
    def f():
        return not_persisted(return_state=True)

    state = f(return_state=True)
    tr = client.read_task_runs(state.state_details["flow_run_id"])[0]
    fresh = State.from_json(tr.state.model_dump(mode="json"))
    with pytest.raises(MissingResult, match="persist_result=True"):
        fresh.result()


def test_any_fsspec_url_and_json_serializer(tmp_path):
    record = persist_result([1, "two"], storage=f"file://{tmp_path}/results", serializer="json", key="k1")
    assert record["storage_key"] == f"file://{tmp_path}/results/k1"
    assert json.loads((tmp_path / "results" / "k1").read_text()) == [1, "two"]
    assert load_result(record) == [1, "two"]
    memory = persist_result({"a": 1}, storage="memory://partita-test")
    assert load_result(memory) == {"a": 1}


def test_a_value_that_cannot_be_pickled_fails_the_task_with_a_clear_message(client):
    import threading

    @task(persist_result=True)
    def returns_lock():
        return threading.Lock()

    @flow
    def f():
        return returns_lock(return_state=True).name

    state = f(return_state=True)
    assert state.result() == "Failed"
    tr = client.read_task_runs(state.state_details["flow_run_id"])[0]
    assert tr.state_name == "Failed" and "could not be persisted" in tr.state.message
