"""State transitions per second through the HTTP API: 8 clients, N flow runs each (default N = 60); Partita only.

A real uvicorn server (``partita_workbench.server.run_server``, one process
on 127.0.0.1) on a fresh SQLite file — ``$PARTITA_HOME/partita.db``, which the
harness counts afterwards — then on a fresh PostgreSQL database, created in
the server named by ``BENCHMARKS_POSTGRES_URL`` (an admin URL, default
``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``; empty to leave
PostgreSQL out) and dropped afterwards. Eight threads, each with its own HTTP
connection, create their flow runs and drive each PENDING → RUNNING →
COMPLETED through ``POST /api/flow_runs/{id}/set_state``: every transition
goes through the orchestration rules and one database transaction.

Reported per database: accepted transitions per second over the whole run
(``<db>_tps``) and the median and 95th-percentile latency of one call.
Only loopback addresses are used; every wait is bounded.

    PARTITA_HOME=$(mktemp -d) python benchmarks/workloads/api_throughput.py --system partita --n 60
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sqlite3
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from workload_support import emit, emit_unsupported, parse_args

CLIENTS = 8
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
SERVER_CODE = (
    "import sys\n"
    "from partita_workbench.server import run_server\n"
    "run_server('127.0.0.1', int(sys.argv[1]), database_url=sys.argv[2], log_level='warning')\n"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A uvicorn server process on a free loopback port (a context manager)."""

    def __init__(self, database_url: str, home: Path) -> None:
        import httpx

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PARTITA_")}
        env.update(PARTITA_HOME=str(home), PARTITA_SERVER_LATE_RUNS_INTERVAL="0")
        self.process = subprocess.Popen([sys.executable, "-c", SERVER_CODE, str(self.port), database_url], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(f"{self.url}/health", timeout=1, trust_env=False).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not start within 120 s: {self.process.stderr.read()[-2000:]}")

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=30)


def _drive(url: str, flow_id: str, runs: int, latencies: list[float], errors: list[str]) -> None:
    import httpx

    with httpx.Client(trust_env=False, timeout=60) as client:
        for _ in range(runs):
            run_id = str(uuid.uuid4())
            created = client.post(f"{url}/flow_runs/", json={"id": run_id, "flow_id": flow_id, "name": "bench"})
            if created.status_code != 201:
                errors.append(created.text)
                return
            for state in ("PENDING", "RUNNING", "COMPLETED"):
                started = time.perf_counter()
                response = client.post(f"{url}/flow_runs/{run_id}/set_state",
                                       json={"state": {"type": state, "name": state.capitalize()}})
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200 or response.json()["status"] != "ACCEPT":
                    errors.append(response.text)
                    return


def transitions(database_url: str, home: Path, runs_per_client: int) -> dict[str, float]:
    """Transitions per second and call latencies of :data:`CLIENTS` clients against a server on ``database_url``."""
    import httpx

    with Server(database_url, home) as server:
        flow_id = httpx.post(f"{server.url}/flows/", json={"name": "bench"}, trust_env=False, timeout=60).json()["id"]
        latencies: list[float] = []
        errors: list[str] = []
        threads = [threading.Thread(target=_drive, args=(server.url, flow_id, runs_per_client, latencies, errors))
                   for _ in range(CLIENTS)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} calls failed, the first: {errors[0][:300]}")
    latencies.sort()
    return {
        "tps": len(latencies) / wall,
        "latency_median_ms": statistics.median(latencies) * 1000,
        "latency_p95_ms": latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000,
        "transitions": len(latencies),
    }


async def _admin(admin_url: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin_url.replace("postgresql+asyncpg", "postgresql"), timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def postgres_transitions(admin_url: str, home: Path, runs_per_client: int) -> dict[str, float]:
    """:func:`transitions` on a new PostgreSQL database, dropped afterwards."""
    name = f"partita_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        return transitions(admin_url.rsplit("/", 1)[0] + f"/{name}", home, runs_per_client)
    finally:
        asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _sequential_flow(tasks: int, home: Path, api_url: str | None) -> dict[str, Any]:
    """``flow_sequential.py`` with ``tasks`` tasks in a fresh process: against ``api_url``, or embedded in ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTITA_")}
    env["PARTITA_HOME"] = str(home)
    if api_url:
        env["PARTITA_API_URL"] = api_url
    script = Path(__file__).resolve().parent / "flow_sequential.py"
    done = subprocess.run([sys.executable, str(script), "--system", "partita", "--n", str(tasks)], env=env,
                          capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"the sequential flow failed: {done.stderr[-2000:]}")
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return {"per_task_us": (measured["wall_s"] - measured["bare_wall_s"]) / tasks * 1e6, "correct": measured["correct"]}


def _count_task_runs(database: Path) -> tuple[int, int]:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT count(*) FROM task_run").fetchone()[0], db.execute("SELECT count(*) FROM task_run_state").fetchone()[0]


def per_task_against_a_server(tasks: int, home: Path) -> dict[str, Any]:
    """Per-task overhead of the sequential flow (issue 3's) with its backend a real server, and embedded.

    The server runs on its own SQLite file (``server-flow.db``), so the counts
    of the throughput part are not changed; every task run and state of the
    flow must be in it afterwards.
    """
    database = home / "server-flow.db"
    with Server(f"sqlite+aiosqlite:///{database}", home / "server") as server:
        remote = _sequential_flow(tasks, home / "client", server.url)
    embedded = _sequential_flow(tasks, home / "embedded", None)
    stored = _count_task_runs(database)
    return {
        "server_per_task_us": remote["per_task_us"],
        "embedded_per_task_us": embedded["per_task_us"],
        "server_flow_complete": remote["correct"] and embedded["correct"] and stored == (tasks, 3 * tasks),
    }


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    if args.system != "partita":
        emit_unsupported(args.system, "api-throughput", args.n, "this drives Partita's own HTTP API")
        return
    home = Path(os.environ.get("PARTITA_HOME") or Path.cwd() / "home")
    home.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {"clients": CLIENTS}
    sqlite = transitions(f"sqlite+aiosqlite:///{home / 'partita.db'}", home, args.n)
    figures.update({f"sqlite_{key}": value for key, value in sqlite.items()})
    admin_url = os.environ.get("BENCHMARKS_POSTGRES_URL", DEFAULT_POSTGRES)
    if admin_url and importlib.util.find_spec("asyncpg") is None:
        print("api-throughput: PostgreSQL left out: asyncpg is not installed (pip install -e '.[postgres]')",
              file=sys.stderr)
    elif admin_url:
        postgres = postgres_transitions(admin_url, home / "pg", args.n)
        figures.update({f"postgres_{key}": value for key, value in postgres.items()})
    flow = per_task_against_a_server(max(20, round(1000 * args.n / 60)), home / "flows")
    figures.update(server_per_task_us=flow["server_per_task_us"], embedded_per_task_us=flow["embedded_per_task_us"])
    correct = sqlite["transitions"] == 3 * CLIENTS * args.n and flow["server_flow_complete"]
    emit(args.system, "api-throughput", args.n, correct=correct, **figures)


if __name__ == "__main__":
    main()
