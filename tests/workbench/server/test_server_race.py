"""Two server processes, eight threads, one run: exactly one start wins, every time."""

from __future__ import annotations

import threading
import uuid

import httpx
from support.server import UvicornServer

ROUNDS = 50
THREADS = 8


def test_one_run_started_from_eight_threads_has_one_winner(database_url):
    with UvicornServer(database_url) as first, UvicornServer(database_url) as second:
        urls = [first.url, second.url]
        clients = [httpx.Client(trust_env=False, timeout=60) for _ in range(THREADS)]
        try:
            flow = clients[0].post(f"{urls[0]}/flows/", json={"name": "race"}).json()
            for round_ in range(ROUNDS):
                run_id = str(uuid.uuid4())
                body = {"id": run_id, "flow_id": flow["id"], "name": f"r{round_}",
                        "state": {"type": "PENDING", "name": "Pending"}}
                assert clients[0].post(f"{urls[0]}/flow_runs/", json=body).status_code == 201
                barrier = threading.Barrier(THREADS)
                outcomes: list[str] = []

                def start(i: int) -> None:
                    barrier.wait()
                    response = clients[i].post(
                        f"{urls[i % 2]}/flow_runs/{run_id}/set_state",
                        json={"state": {"type": "RUNNING", "name": "Running"}},
                    )
                    outcomes.append(response.json()["status"] if response.status_code == 200 else str(response.status_code))

                threads = [threading.Thread(target=start, args=(i,)) for i in range(THREADS)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                assert sorted(outcomes) == ["ABORT"] * (THREADS - 1) + ["ACCEPT"], (round_, outcomes)
                run = clients[0].get(f"{urls[0]}/flow_runs/{run_id}").json()
                assert run["run_count"] == 1
                history = clients[1].get(f"{urls[1]}/flow_run_states/", params={"flow_run_id": run_id}).json()
                assert [s["type"] for s in history] == ["PENDING", "RUNNING"]
        finally:
            for client in clients:
                client.close()
