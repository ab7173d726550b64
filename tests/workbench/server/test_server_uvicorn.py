"""The backend served by uvicorn in its own process keeps its data across a restart."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(client: httpx.Client, port: int, database_url: str) -> subprocess.Popen:
    code = (
        "import sys\n"
        "from partita_workbench.server import run_server\n"
        "run_server('127.0.0.1', int(sys.argv[1]), database_url=sys.argv[2], log_level='warning')\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(port), database_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited early: {process.stdout.read().decode()}")
        try:
            if client.get(f"http://127.0.0.1:{port}/api/health", timeout=1).json() is True:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    stop(process)
    raise AssertionError("server did not answer /api/health within 60 s")


def stop(process: subprocess.Popen) -> None:
    process.kill()  # no graceful shutdown: committed data must survive anyway
    process.wait(timeout=30)
    process.stdout.close()


def test_data_survives_a_server_restart(database_url):
    port = free_port()
    base = f"http://127.0.0.1:{port}/api"
    # trust_env=False: no proxy from the environment for 127.0.0.1
    with httpx.Client(trust_env=False, timeout=30) as client:
        server = start_server(client, port, database_url)
        try:
            flow = client.post(f"{base}/flows/", json={"name": "etl"}).json()
            running = {"type": "RUNNING", "name": "Running"}
            created = client.post(
                f"{base}/flow_runs/", json={"flow_id": flow["id"], "name": "kept", "state": running}
            )
            assert created.status_code == 201, created.text
            run = created.json()
            completed = {"state": {"type": "COMPLETED", "name": "Completed"}}
            assert (
                client.post(f"{base}/flow_runs/{run['id']}/set_state", json=completed).json()["status"]
                == "ACCEPT"
            )
        finally:
            stop(server)

        server = start_server(client, port, database_url)
        try:
            again = client.get(f"{base}/flow_runs/{run['id']}")
            assert again.status_code == 200
            assert again.json()["name"] == "kept" and again.json()["state_type"] == "COMPLETED"
            history = client.get(f"{base}/flow_run_states/", params={"flow_run_id": run["id"]}).json()
            assert [s["type"] for s in history] == ["RUNNING", "COMPLETED"]
        finally:
            stop(server)
