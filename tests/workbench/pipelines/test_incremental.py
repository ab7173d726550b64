"""Incremental runs: unchanged tasks are Cached, a changed notebook re-runs it and its downstream only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from partita_workbench.pipelines import compile_pipeline

from support.cli import run_cli

INCREMENTAL = Path(__file__).parents[2] / "data" / "pipelines" / "incremental"
TASKS = {"greeting", "report", "read-report", "shout", "other", "list"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(INCREMENTAL, tmp_path / "project")
    return tmp_path / "project"


def touch_notebook(path: Path) -> None:
    notebook = json.loads(path.read_text())
    notebook["cells"][1]["source"] = ["print(msg)\n", "print('changed')"]
    path.write_text(json.dumps(notebook))


def outcome(client, state) -> dict[str, str]:
    """{task: 'Cached' or the reason it ran}, from the database."""
    out = {}
    for run in client.read_task_runs(state.state_details["flow_run_id"]):
        final = client.read_task_run_states(run.id)[-1]
        out[run.name] = final.name if final.name == "Cached" else final.state_details.get("cache_miss_reason")
    return out


def test_unchanged_runs_are_cached_and_a_changed_notebook_reruns_its_downstream_only(project, fresh_home, client):
    first = compile_pipeline(project / "pipeline.yaml")(return_state=True)
    assert first.is_completed(), first.message
    assert outcome(client, first) == dict.fromkeys(TASKS, "no previous run")

    second = compile_pipeline(project / "pipeline.yaml")(return_state=True)
    assert outcome(client, second) == dict.fromkeys(TASKS, "Cached")
    assert second.result() == first.result()

    touch_notebook(project / "report.ipynb")
    third = compile_pipeline(project / "pipeline.yaml")(return_state=True)
    assert outcome(client, third) == {
        "greeting": "Cached", "shout": "Cached", "other": "Cached", "list": "Cached",
        "report": "source changed", "read-report": "upstream changed",
    }
    assert third.result()["read-report"] == "Hello, world!\nchanged"

    fourth = compile_pipeline(project / "pipeline.yaml")(who="Ada", return_state=True)
    assert outcome(client, fourth) == {
        "greeting": "inputs changed", "report": "upstream changed", "read-report": "upstream changed",
        "shout": "upstream changed", "other": "Cached", "list": "Cached",
    }


def test_refresh_all_or_one_task_with_its_downstream(project, fresh_home, client):
    path = project / "pipeline.yaml"
    compile_pipeline(path)()
    everything = compile_pipeline(path, refresh=True)(return_state=True)
    assert outcome(client, everything) == dict.fromkeys(TASKS, "refresh asked")
    some = compile_pipeline(path, refresh=["report", "other"])(return_state=True)
    assert outcome(client, some) == {
        "greeting": "Cached", "shout": "Cached",
        "report": "refresh asked", "read-report": "refresh asked", "other": "refresh asked", "list": "refresh asked",
    }


def test_cache_options_compile_to_policies(tmp_path, fresh_home, client):
    (tmp_path / "p.yaml").write_text(
        "name: cache-options\n"
        "parameters:\n  n: {type: integer, default: 1}\n"
        "tasks:\n"
        "  never: {shell: 'echo ${{ params.n }}', cache: false}\n"
        "  source-only: {shell: 'echo ${{ params.n }}', cache: {policy: source}}\n"
        "  per-run: {shell: 'echo run', cache: {policy: [source, run_id]}}\n"
        "  expired: {shell: 'echo old', cache: {expiration: 0}}\n"
    )
    flow = compile_pipeline(tmp_path / "p.yaml")
    flow()
    second = flow(n=2, return_state=True)
    assert outcome(client, second) == {
        "never": None, "source-only": "Cached", "per-run": "flow run changed", "expired": "cache expired",
    }
    assert second.result()["source-only"] == "1"  # the key ignores the parameter, as asked


def test_run_cli_summary_shows_cached_and_why_tasks_ran(project, tmp_path):
    env = {"PARTITA_HOME": str(tmp_path / "home")}
    first = run_cli("run", str(project / "pipeline.yaml"), env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.count("ran: no previous run") == len(TASKS)

    touch_notebook(project / "other.ipynb")
    second = run_cli("run", str(project / "pipeline.yaml"), env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    rows = {line.split("│")[1].strip(): line for line in second.stdout.splitlines() if line.startswith("│")}
    assert "ran: source changed" in rows["other"] and "ran: upstream changed" in rows["list"]
    for task in TASKS - {"other", "list"}:
        assert "Cached" in rows[task] and "hit" in rows[task]

    refreshed = run_cli("run", str(project / "pipeline.yaml"), "--refresh", "shout", env=env)
    assert refreshed.returncode == 0, refreshed.stderr
    assert refreshed.stdout.count("ran: refresh asked") == 1
    everything = run_cli("run", str(project / "pipeline.yaml"), "--refresh", env=env)
    assert everything.stdout.count("ran: refresh asked") == len(TASKS)
    unknown = run_cli("run", str(project / "pipeline.yaml"), "--refresh", "nope", env=env)
    assert unknown.returncode == 2 and "cannot refresh unknown task(s) nope" in unknown.stderr
