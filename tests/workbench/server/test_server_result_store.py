"""The server's result store used by the SDK (``PARTITA_RESULT_STORAGE=server``), over real uvicorn.

A flow runs in one PARTITA_HOME; its results are loaded by another process
with another home that shares no files with it, only the server's URL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import nbformat
import pytest
from support.cli import run_cli
from support.notebooks import make_notebook
from support.server import UvicornServer

from partita import flow, task
from partita.client import orchestration
from partita.settings import get_settings


@task
def square(x: int) -> dict:
    return {"x": x, "square": x * x}


@flow(persist_result=True)
def squares(n: int) -> int:
    return sum(square(i)["square"] for i in range(n))


@task
def add_one(x: int) -> int:
    return x + 1


@flow
def not_persisted(n: int) -> int:
    return sum(add_one(i) for i in range(n))


_READER = """
import json, sys
from partita.client.orchestration import get_client
from partita.states import State

with get_client(sync_client=True) as client:
    run = client.read_flow_run(sys.argv[1])
    record = client.read_flow_run_result(sys.argv[1])
    tasks = client.read_task_runs(sys.argv[1])
    print(json.dumps({
        "flow": State.from_json(run.state).result(),
        "tasks": sorted((State.from_json(t.state).result() for t in tasks), key=lambda v: v["x"]),
        "record": record.model_dump(mode="json"),
    }))
"""


def _use(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    orchestration.reset_shared_client()
    get_settings.cache_clear()


@pytest.fixture
def server(database_url: str, tmp_path: Path):
    home = tmp_path / "server-home"
    with UvicornServer(database_url, env={"PARTITA_HOME": str(home), "PARTITA_RESULT_STORAGE": ""}) as running:
        running.storage = home / "storage"
        yield running


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_results_are_loaded_by_another_process_through_the_server(server, tmp_path, monkeypatch):
    writer_home, reader_home = tmp_path / "writer", tmp_path / "reader"
    _use(monkeypatch, PARTITA_HOME=str(writer_home), PARTITA_API_URL=server.url, PARTITA_RESULT_STORAGE="server")
    state = squares(4, return_state=True)
    assert state.result() == 14
    run_id = state.state_details["flow_run_id"]
    orchestration.reset_shared_client()  # write-behind task states flushed
    assert state.data["storage_key"].startswith("partita://results/")
    assert _files(writer_home / "storage") == []  # nothing written on the writer's side
    assert len(_files(server.storage / "results")) == 5  # the flow's result and its four tasks'

    env = {**os.environ, "PARTITA_HOME": str(reader_home), "PARTITA_API_URL": server.url}
    env.pop("PARTITA_RESULT_STORAGE")
    read = subprocess.run([sys.executable, "-c", _READER, run_id], capture_output=True, text=True, env=env, timeout=120)
    assert read.returncode == 0, read.stderr
    doc = json.loads(read.stdout)
    assert doc["flow"] == 14
    assert doc["tasks"] == [{"x": i, "square": i * i} for i in range(4)]
    assert doc["record"]["fetchable"] is True and doc["record"]["storage_key"].startswith("results/")
    assert not reader_home.joinpath("storage").exists()

    shown = run_cli("flow-run", "inspect", run_id, env={"PARTITA_HOME": str(reader_home), "PARTITA_API_URL": server.url})
    assert shown.returncode == 0, shown.stderr
    assert "{'x': 3, 'square': 9}" in shown.stdout and "partita://results/" in shown.stdout

    with httpx.Client(trust_env=False) as http:  # the download endpoint: bytes as stored, never unpickled here
        blob = http.get(f"{server.url}/results/{doc['record']['storage_key']}")
        head = http.head(f"{server.url}/results/{doc['record']['storage_key']}")
    assert blob.status_code == 200 and blob.content.startswith(b"\x80")
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(blob.content)
    assert head.headers["last-modified"].endswith("GMT") and head.content == b""


def test_tasks_that_do_not_persist_send_nothing_to_the_store(server, tmp_path, monkeypatch):
    _use(monkeypatch, PARTITA_HOME=str(tmp_path / "writer"), PARTITA_API_URL=server.url, PARTITA_RESULT_STORAGE="server")
    assert not_persisted(20) == 210
    orchestration.reset_shared_client()
    assert _files(server.storage) == []


def test_an_executed_notebook_is_downloaded_through_the_api(server, tmp_path, monkeypatch):
    from partita_workbench.notebooks import notebook_flow

    source = make_notebook(tmp_path / "work" / "report.ipynb", [("n = 2", ["parameters"]), "print('n squared is', n * n)"])
    writer_home = tmp_path / "writer"
    _use(monkeypatch, PARTITA_HOME=str(writer_home), PARTITA_API_URL=server.url, PARTITA_RESULT_STORAGE="server")
    state = notebook_flow(source)(n=7, return_state=True)
    assert state.is_completed(), state.message
    run_id = state.state_details["flow_run_id"]
    orchestration.reset_shared_client()
    assert not any(p.suffix == ".ipynb" for p in _files(writer_home))

    # As the JupyterLab front end would: JSON only, nothing unpickled.
    with httpx.Client(base_url=server.url, trust_env=False) as http:
        (task_run,) = http.post("/task_runs/filter", json={"task_runs": {"flow_run_id": {"any_": [run_id]}}}).json()
        record = http.get(f"/task_runs/{task_run['id']}/result").json()
        assert record["serializer"] == "json" and record["fetchable"] is True
        url = json.loads(http.get(f"/results/{record['storage_key']}").content)
        assert url == f"partita://results/runs/{run_id}/report.ipynb"
        downloaded = http.get(f"/results/{url.removeprefix('partita://')}")
    assert downloaded.status_code == 200
    executed = nbformat.reads(downloaded.text, as_version=4)
    printed = "".join(o.get("text", "") for cell in executed.cells for o in cell.get("outputs", []))
    assert "n squared is 49" in printed
