"""Tag concurrency limits hold for task runs the SDK starts (as Prefect 3's tag-based limits).

Each test runs against every backend kind (embedded and real uvicorn, SQLite
and PostgreSQL). Tags are unique per test, so limits never meet across tests
sharing a database.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from partita import flow, task
from partita.client.orchestration import shared_sync_client

WORK_SECONDS = 0.4


def _tag() -> str:
    return f"db-{uuid.uuid4().hex[:8]}"


def _max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The most intervals open at one instant (an end at t closes before a start at t)."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals], key=lambda e: (e[0], e[1]))
    most = current = 0
    for _, step in events:
        current += step
        most = max(most, current)
    return most


class _Requests:
    """Counts the requests the shared client sends, by path (an httpx event hook)."""

    def __init__(self, client) -> None:
        self.paths: list[str] = []
        self.lock = threading.Lock()
        client._http.event_hooks["request"].append(self.seen)

    def seen(self, request) -> None:
        with self.lock:
            self.paths.append(request.url.path)

    def count(self, part: str) -> int:
        return sum(part in path for path in self.paths)


def _task_runs(client, flow_run_id):
    return client.read_task_runs(flow_run_id)


@pytest.mark.timeout(180)
def test_six_tagged_tasks_with_a_limit_of_two_never_run_three_at_once(any_backend):
    tag = _tag()
    client = shared_sync_client()
    client.create_concurrency_limit(tag, 2)
    inside: list[tuple[float, float]] = []

    @task(tags=[tag, "other"])
    def query(i: int) -> int:
        started = time.time()
        time.sleep(WORK_SECONDS)
        inside.append((started, time.time()))
        return i

    @flow
    def six_queries() -> list[int]:
        futures = [query.submit(i) for i in range(6)]
        return [f.result() for f in futures]

    state = six_queries(return_state=True)
    assert state.is_completed(), state.message
    assert state.result() == list(range(6))
    assert _max_overlap(inside) == 2  # in the task's own code: never more than the limit

    runs = _task_runs(client, state.state_details["flow_run_id"])
    assert len(runs) == 6 and {r.state_type.value for r in runs} == {"COMPLETED"}
    # the recorded start/end times agree (start times are taken just before asking for a slot)
    recorded = [(r.start_time.timestamp() + 0.05, r.end_time.timestamp()) for r in runs]
    assert _max_overlap(recorded) <= 2
    for run in runs:
        history = [s.type.value for s in client.read_task_run_states(run.id)]
        assert history == ["PENDING", "RUNNING", "COMPLETED"]
        assert run.run_count == 1
    limit = client.read_concurrency_limit_by_tag(tag)
    assert limit.active_slots == []
    assert client.read_global_concurrency_limit_by_name(f"tag:{tag}").active_slots == 0


@pytest.mark.timeout(120)
def test_a_failing_tagged_task_gives_its_slot_back(any_backend):
    tag = _tag()
    client = shared_sync_client()
    client.create_concurrency_limit(tag, 1)
    attempts: list[int] = []

    @task(tags=[tag])
    def breaks() -> None:
        raise ValueError("no connection")

    @task(tags=[tag], retries=1)
    def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("first attempt fails")
        return "ok"

    @flow
    def with_failures() -> str:
        failed = breaks(return_state=True)
        assert failed.is_failed()
        return flaky()  # would wait for ever if the failure had kept the only slot

    state = with_failures(return_state=True)
    assert state.is_completed(), state.message
    assert state.result() == "ok"
    runs = {r.name: r for r in _task_runs(client, state.state_details["flow_run_id"])}
    assert runs["breaks"].state_type.value == "FAILED"
    retried = [(s.type.value, s.name) for s in client.read_task_run_states(runs["flaky"].id)]
    assert retried == [("PENDING", "Pending"), ("RUNNING", "Running"), ("SCHEDULED", "AwaitingRetry"),
                       ("RUNNING", "Retrying"), ("COMPLETED", "Completed")]
    assert client.read_concurrency_limit_by_tag(tag).active_slots == []


@pytest.mark.timeout(120)
def test_tasks_without_a_limited_tag_take_no_round_trip(any_backend):
    client = shared_sync_client()
    limited = _tag()
    client.create_concurrency_limit(limited, 5)
    requests = _Requests(client)

    @task(tags=[f"free-{uuid.uuid4().hex[:8]}"])
    def tagged(i: int) -> int:
        return i

    @task
    def plain(i: int) -> int:
        return i

    @flow
    def untagged() -> int:
        return sum(f.result() for f in plain.map(range(20)))

    @flow
    def unlimited_tags() -> int:
        return sum(f.result() for f in tagged.map(range(20)))

    assert untagged() == sum(range(20))
    assert requests.count("concurrency_limits") == 0  # no tags: not even the list of limits is read
    assert unlimited_tags() == sum(range(20))
    assert requests.count("concurrency_limits") == 1  # once for the flow run, not per task run
    assert requests.count("/task_runs/") - requests.count("/task_runs/batch") == 0  # no set_state, no single create


@pytest.mark.timeout(120)
def test_a_limit_of_zero_holds_tasks_back_until_it_is_raised(any_backend):
    tag = _tag()
    client = shared_sync_client()
    client.create_concurrency_limit(tag, 0)

    @task(tags=[tag])
    def held() -> str:
        return "ran"

    @flow
    def waits() -> str:
        return held()

    outcome: dict = {}
    runner = threading.Thread(target=lambda: outcome.setdefault("state", waits(return_state=True)))
    runner.start()
    time.sleep(2.5)
    assert "state" not in outcome  # told to WAIT, again and again
    client.create_concurrency_limit(tag, 1)  # raise the limit: the task run starts
    runner.join(timeout=30)
    assert outcome["state"].result() == "ran"
    assert client.read_concurrency_limit_by_tag(tag).active_slots == []
