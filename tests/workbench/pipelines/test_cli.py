"""``partita validate`` and ``partita run`` on invalid pipelines, through the real console script."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from support.cli import run_cli

DATA = Path(__file__).parents[2] / "data" / "pipelines"
INVALID = DATA / "invalid"
TABLES = ("flow", "flow_run", "flow_run_state", "task_run", "task_run_state", "log")


def row_counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        return {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}


def test_validate_reports_every_problem_of_every_file_and_exits_2(tmp_path):
    many = INVALID / "many_problems.yaml"
    cycle = INVALID / "cycle.yaml"
    result = run_cli("validate", str(many), str(DATA / "references.yaml"), str(cycle), str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        f"{many}:9:12: task 'greet' refers to unknown parameter 'whom'; did you mean 'who'?",
        f"{many}:13:12: task 'show' refers to unknown task 'greeet'; did you mean 'greet'?",
        f"{many}:14:5: unknown key 'retires' in task 'show'; did you mean 'retries'?",
        f"{many}:15:3: task 'list' has no kind: give one of 'python:', 'notebook:', 'shell:' or 'pipeline:'",
        f"{cycle}:3:3: dependency cycle: a -> c -> b -> a (each task needs the next one)",
        f"{tmp_path / 'nope.yaml'}:1:1: no such file",
    ]
    assert result.stderr.strip() == "6 problems in 3 of 4 files"


def test_validate_valid_files_exits_0():
    result = run_cli("validate", str(DATA / "references.yaml"), str(DATA / "ordering.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.strip() == "2 files valid"


def test_validate_names_a_file_that_is_not_a_pipeline():
    result = run_cli("validate", str(DATA / "pipeline_steps.py"))
    assert result.returncode == 2
    assert "pipeline_steps.py:1:1: not a pipeline file" in result.stdout


def test_run_refuses_an_invalid_pipeline_with_the_same_report_and_records_nothing(tmp_path):
    home = tmp_path / "home"
    env = {"PARTITA_HOME": str(home)}
    valid = run_cli("run", str(DATA / "ordering.yaml"), env=env)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    before = row_counts(home / "partita.db")
    assert before["flow_run"] == 1 and before["task_run"] == 2

    many = INVALID / "many_problems.yaml"
    refused = run_cli("run", str(many), env=env)
    validated = run_cli("validate", str(many))
    assert refused.returncode == 2
    # the same report, on stderr since it stops the run
    assert refused.stderr == validated.stdout + validated.stderr and refused.stderr.count(f"{many}:") == 4
    assert refused.stdout == ""
    assert row_counts(home / "partita.db") == before


def test_run_of_an_invalid_pipeline_in_a_new_home_creates_no_database(tmp_path):
    home = tmp_path / "home"
    refused = run_cli("run", str(INVALID / "cycle.yaml"), env={"PARTITA_HOME": str(home)})
    assert refused.returncode == 2
    assert not (home / "partita.db").exists()


def test_validate_and_graph_accept_a_ploomber_project():
    ploomber = Path(__file__).parents[2] / "data" / "ploomber" / "basic" / "pipeline.yaml"
    valid = run_cli("validate", str(ploomber))
    assert valid.returncode == 0, valid.stdout + valid.stderr
    drawn = run_cli("graph", str(ploomber), "--format", "json")
    assert drawn.returncode == 0, drawn.stderr
    import json

    assert {t["name"] for t in json.loads(drawn.stdout)["tasks"]} == {"load", "clean", "report"}


def test_a_bare_refresh_means_every_task(tmp_path):
    from partita_workbench.cli.run import normalize_refresh

    target = tmp_path / "p.yaml"
    target.write_text("name: x\n")
    assert normalize_refresh(["run", "p.yaml", "--refresh"]) == ["run", "p.yaml", "--refresh=*"]
    assert normalize_refresh(["run", "p.yaml", "--refresh", "-p", "a=1"]) == ["run", "p.yaml", "--refresh=*", "-p", "a=1"]
    assert normalize_refresh(["run", "p.yaml", "--refresh", "load"]) == ["run", "p.yaml", "--refresh", "load"]
    assert normalize_refresh(["run", "--refresh", str(target)]) == ["run", "--refresh=*", str(target)]


def test_cache_column_text():
    from partita.states import Completed, State, StateType

    from partita_workbench.cli.run import _cache_text

    assert _cache_text(Completed(name="Cached")) == "hit"
    assert _cache_text(State(StateType.COMPLETED, "Completed", state_details={"cache_miss_reason": "inputs changed"})) == "ran: inputs changed"
    assert _cache_text(State(StateType.COMPLETED, "Skipped", state_details={"cache_miss_reason": "no previous run"})) == ""
    assert _cache_text(Completed()) == ""
