"""``partita run`` / ``flow-run`` through the real console script, embedded and over HTTP."""

from __future__ import annotations

import re
from typing import Optional
from pathlib import Path

import httpx

from partita.client.orchestration import SyncPartitaClient

from support.cli import Server, run_cli

DATA = Path(__file__).parents[2] / "data" / "flows"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def run_id_of(stdout: str) -> str:
    return re.search(rf"flow-run inspect ({UUID})", stdout).group(1)


def test_run_python_flow_prints_summary_and_inspect_shows_it(tmp_path):
    env = {"PARTITA_HOME": str(tmp_path / "home")}
    result = run_cli("run", f"{DATA}/simple.py:squares", "-p", "n=4", env=env)
    assert result.returncode == 0, result.stderr
    assert "finished in state Completed" in result.stdout
    assert "square-3" in result.stdout and "total" in result.stdout
    run_id = run_id_of(result.stdout)

    listing = run_cli("flow-run", "ls", env=env)
    assert run_id in listing.stdout and "squares" in listing.stdout

    inspect = run_cli("flow-run", "inspect", run_id[:8], env=env)
    assert inspect.returncode == 0, inspect.stderr
    assert "Pending → Running → Completed" in inspect.stdout
    assert "square-3" in inspect.stdout and str(tmp_path / "home" / "storage") in inspect.stdout

    logs = run_cli("flow-run", "logs", run_id, env=env)
    assert "adding 4 values" in logs.stdout


def test_exit_codes_for_failures_and_bad_input(tmp_path):
    env = {"PARTITA_HOME": str(tmp_path / "home")}
    failed = run_cli("run", f"{DATA}/simple.py:broken", env=env)
    assert failed.returncode == 1
    assert "ZeroDivisionError: the sky fell" in failed.stdout + failed.stderr

    bad_param = run_cli("run", f"{DATA}/simple.py:squares", "-p", "n=lots", env=env)
    assert bad_param.returncode == 2  # refused before the run: nothing recorded
    assert "parameter 'n'" in bad_param.stderr and "valid integer" in bad_param.stderr

    unknown_param = run_cli("run", f"{DATA}/simple.py:squares", "-p", "m=1", env=env)
    assert unknown_param.returncode == 2 and "unexpected keyword argument 'm'" in unknown_param.stderr

    not_flow = run_cli("run", f"{DATA}/simple.py:plain_function", env=env)
    assert not_flow.returncode == 2 and "not a flow; decorate it with @flow" in not_flow.stderr
    not_callable = run_cli("run", f"{DATA}/simple.py:not_a_flow", env=env)
    assert not_callable.returncode == 2 and "not_a_flow" in not_callable.stderr

    missing = run_cli("run", "nowhere.yaml", env=env)
    assert missing.returncode == 2 and "no such file" in missing.stdout + missing.stderr  # the validation report goes to stdout

    # nothing is left RUNNING
    listing = run_cli("flow-run", "ls", env=env)
    assert "Running" not in listing.stdout and "Failed" in listing.stdout


def test_http_mode_records_the_same_and_survives_server_restart(tmp_path):
    server = Server(tmp_path / "server-home").start()
    try:
        _check_http_mode(server, tmp_path)
    finally:
        server.stop()


def _check_http_mode(server, tmp_path):
    env = {"PARTITA_API_URL": server.url, "PARTITA_HOME": str(tmp_path / "client-home")}
    result = run_cli("run", f"{DATA}/simple.py:squares", "-p", "n=3", env=env)
    assert result.returncode == 0, result.stderr
    run_id = run_id_of(result.stdout)
    assert not (tmp_path / "client-home" / "partita.db").exists()  # recorded by the server only

    server.stop()
    server.start()
    with SyncPartitaClient(server.url) as client:
        run = client.read_flow_run(run_id)
        assert run.state_name == "Completed"
        task_runs = client.read_task_runs(run_id)
        assert sorted(tr.name for tr in task_runs) == ["square", "square-1", "square-2", "total"]
        for tr in task_runs:
            assert [s.name for s in client.read_task_run_states(tr.id)] == ["Pending", "Running", "Completed"]
    inspect = run_cli("flow-run", "inspect", run_id, env=env)
    assert "square-2" in inspect.stdout
    assert httpx.get(f"{server.url}/health").json() is True


def test_parameter_values_keep_the_declared_type():
    from partita import flow
    from partita_workbench.cli.targets import parse_parameters

    @flow
    def typed(code: str, maybe: Optional[str] = None, n: int = 0, ratio: float = 0.5, flag: bool = False, items: list = []):
        pass

    got = parse_parameters(typed, ["code=007", "maybe=3", "n=4", "ratio=0.75", "flag=false", "items=[1, 2]"])
    assert got == {"code": "007", "maybe": "3", "n": 4, "ratio": 0.75, "flag": False, "items": [1, 2]}
