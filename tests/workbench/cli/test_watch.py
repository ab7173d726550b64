"""``partita flow-run watch``: live over a real server's event stream, and by polling when embedded."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid

from support.server import UvicornServer

from partita.client.orchestration import SyncPartitaClient
from partita.states import Completed, Failed, Pending, Running


def _watch(env: dict[str, str], run_id: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "partita_workbench.cli", "flow-run", "watch", run_id],
        env={**os.environ, "COLUMNS": "200", **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _drive(client: SyncPartitaClient, run_id, final) -> None:
    client.set_flow_run_state(run_id, Running())
    task_run_id = str(uuid.uuid4())
    client.write_task_run_batch({
        "task_runs": [[task_run_id, "extract-0", str(run_id), "extract", "0", None, {}, [], 1, None, None, 0.5]],
        "states": [[task_run_id, str(uuid.uuid4()), "COMPLETED", "Completed", "2024-05-01T12:00:00Z", None, {}, None]],
    })
    client.write_logs([{"name": "etl", "level": 30, "message": "rows dropped: 3", "flow_run_id": str(run_id)}])
    client.set_flow_run_state(run_id, final)


def test_watch_follows_a_run_over_the_event_stream(tmp_path):
    home = tmp_path / "home"
    with UvicornServer(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", env={"PARTITA_HOME": str(home)}) as server:
        with SyncPartitaClient(server.url) as client:
            flow = client.create_flow("watched")
            run = client.create_flow_run(flow.id, "nightly", state=Pending())
            watcher = _watch({"PARTITA_API_URL": server.url, "PARTITA_HOME": str(home)}, str(run.id))
            first = watcher.stdout.readline()  # printed once the stream is open
            assert "Watching flow run 'nightly'" in first, first + watcher.stderr.read()
            _drive(client, run.id, Completed())
            out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    assert "flow run 'nightly' → Running" in out
    assert "task run 'extract-0' → Completed" in out
    assert "WARNING  etl - rows dropped: 3" in out
    assert "flow run 'nightly' → Completed" in out
    assert "Flow run 'nightly': Completed" in out and "extract-0" in out.split("Flow run 'nightly':")[1]


def test_watch_polls_the_embedded_backend_and_fails_with_the_run(tmp_path, monkeypatch):
    home = tmp_path / "home"
    env = {"PARTITA_HOME": str(home)}
    monkeypatch.setenv("PARTITA_HOME", str(home))
    monkeypatch.delenv("PARTITA_API_URL", raising=False)
    from partita.client import orchestration
    from partita.settings import get_settings

    get_settings.cache_clear()
    orchestration.reset_shared_client()
    client = SyncPartitaClient()
    flow = client.create_flow("polled")
    run = client.create_flow_run(flow.id, "hourly", state=Pending())
    client.close()
    from partita.client.embedded import shutdown_embedded_backends

    shutdown_embedded_backends()  # let the watcher process open the SQLite file alone
    watcher = _watch(env, str(run.id))
    first = watcher.stdout.readline()
    assert "by polling" in first, first + watcher.stderr.read()
    client = SyncPartitaClient()
    timer = threading.Timer(0.5, _drive, args=(client, run.id, Failed(message="boom")))
    timer.start()
    out, err = watcher.communicate(timeout=90)
    timer.join()
    client.close()
    assert watcher.returncode == 1, err
    assert "task run 'extract-0' → Completed" in out and "rows dropped: 3" in out
    assert "flow run 'hourly' → Failed" in out
