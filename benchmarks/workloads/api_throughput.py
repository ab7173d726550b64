"""Throughput of the backend over HTTP: state transitions per second, and per-task overhead of a flow.

    python benchmarks/api_throughput.py [--clients 8] [--runs-per-client 60] [--tasks 1000]
                                        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

1. **State transitions per second.** A real uvicorn server (one process, on
   127.0.0.1) on a fresh SQLite file, then on a fresh PostgreSQL database
   (created in the server named by ``--postgres`` and dropped afterwards).
   ``--clients`` threads, each with its own HTTP connection, drive their own
   flow runs PENDING → RUNNING → COMPLETED through
   ``POST /api/flow_runs/{id}/set_state``; every transition goes through the
   orchestration rules and one database transaction. Reported: accepted
   transitions per second over the whole run, and the median and 95th
   percentile latency of one call.
2. **Per-task overhead against a real server.** The foundation benchmark
   (``benchmarks/workloads/flow_sequential.py``: a flow calling N trivial
   tasks one after another) in a fresh process with ``PARTITA_API_URL`` set
   to a server on SQLite, and the same with the embedded backend:
   ``(flow wall time - the same N plain calls) / N``.

Each measurement prints one line; ``--json FILE`` writes them all. Only
loopback addresses are used; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
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
    """A uvicorn server process on a free loopback port."""

    def __init__(self, database_url: str, home: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PARTITA_")}
        env.update(PARTITA_HOME=str(home), PARTITA_SERVER_LATE_RUNS_INTERVAL="0")
        self.process = subprocess.Popen([sys.executable, "-c", SERVER_CODE, str(self.port), database_url], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1, trust_env=False).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the server did not start within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _drive(url: str, flow_id: str, runs: int, latencies: list[float], errors: list[str]) -> None:
    with httpx.Client(trust_env=False, timeout=60) as client:
        for _ in range(runs):
            run_id = str(uuid.uuid4())
            created = client.post(f"{url}/flow_runs/", json={"id": run_id, "flow_id": flow_id, "name": "bench"})
            if created.status_code != 201:
                errors.append(created.text)
                return
            for state in ("PENDING", "RUNNING", "COMPLETED"):
                t0 = time.perf_counter()
                response = client.post(f"{url}/flow_runs/{run_id}/set_state",
                                       json={"state": {"type": state, "name": state.capitalize()}})
                latencies.append(time.perf_counter() - t0)
                if response.status_code != 200 or response.json()["status"] != "ACCEPT":
                    errors.append(response.text)
                    return


def transitions_per_second(database_url: str, label: str, clients: int, runs_per_client: int) -> dict:
    with tempfile.TemporaryDirectory() as home:
        server = Server(database_url, Path(home))
        try:
            flow_id = httpx.post(f"{server.url}/flows/", json={"name": "bench"}, trust_env=False).json()["id"]
            latencies: list[float] = []
            errors: list[str] = []
            threads = [threading.Thread(target=_drive, args=(server.url, flow_id, runs_per_client, latencies, errors))
                       for _ in range(clients)]
            t0 = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - t0
        finally:
            server.stop()
    if errors:
        raise RuntimeError(f"{label}: {len(errors)} failed calls, first: {errors[0][:300]}")
    latencies.sort()
    return {
        "measure": "state transitions per second",
        "database": label,
        "clients": clients,
        "transitions": len(latencies),
        "wall_s": round(wall, 3),
        "transitions_per_s": round(len(latencies) / wall, 1),
        "latency_median_ms": round(statistics.median(latencies) * 1000, 2),
        "latency_p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 2),
    }


def _sequential(n: int, env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, str(HERE / "workloads" / "flow_sequential.py"), "--system", "partita", "--n", str(n)],
        env=env, capture_output=True, text=True, timeout=900,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def per_task_overhead(tasks: int) -> list[dict]:
    results = []
    base = {k: v for k, v in os.environ.items() if not k.startswith("PARTITA_")}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        server = Server(f"sqlite+aiosqlite:///{tmp_path / 'server.db'}", tmp_path / "server-home")
        try:
            modes = [("server over HTTP (SQLite)", {"PARTITA_API_URL": server.url}), ("embedded (SQLite)", {})]
            for label, extra in modes:
                env = {**base, "PARTITA_HOME": str(tmp_path / f"home-{len(results)}"), **extra}
                doc = _sequential(tasks, env)
                overhead = (doc["wall_s"] - doc["bare_wall_s"]) / tasks
                results.append({
                    "measure": "per-task overhead of a sequential flow",
                    "backend": label,
                    "tasks": tasks,
                    "flow_wall_s": round(doc["wall_s"], 3),
                    "overhead_per_task_ms": round(overhead * 1000, 3),
                    "correct": doc.get("correct"),
                })
        finally:
            server.stop()
    return results


async def _admin(admin_url: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin_url.replace("postgresql+asyncpg", "postgresql"), timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--runs-per-client", type=int, default=60, help="flow runs per client (3 transitions each)")
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
                        help="an admin URL of a PostgreSQL server; '' to skip PostgreSQL")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        results.append(transitions_per_second(sqlite, "SQLite", args.clients, args.runs_per_client))
        print(json.dumps(results[-1]), flush=True)
    if args.postgres:
        name = f"partita_bench_{uuid.uuid4().hex[:10]}"
        asyncio.run(_admin(args.postgres, f'CREATE DATABASE "{name}"'))
        try:
            url = args.postgres.rsplit("/", 1)[0] + f"/{name}"
            results.append(transitions_per_second(url, "PostgreSQL", args.clients, args.runs_per_client))
            print(json.dumps(results[-1]), flush=True)
        finally:
            asyncio.run(_admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    for result in per_task_overhead(args.tasks):
        results.append(result)
        print(json.dumps(result), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
