"""SDK functions and client calls for artifacts, variables, concurrency, pages, graphs and results."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest

import partita
from partita import flow, task, variables
from partita.client import resource_schemas as r
from partita.client import schemas as s
from partita.client.orchestration import get_client, shared_sync_client
from partita.exceptions import ConcurrencySlotAcquisitionError, ObjectNotFound, UserInputError


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_artifacts_from_a_flow_keep_versions_and_run_ids(backend):
    key = unique("report")

    @task
    def summarize(n: int) -> int:
        partita.create_table_artifact([{"n": n, "square": n * n}], key=key, description="squares")
        return n

    @flow
    def reporting(n: int) -> str:
        partita.create_markdown_artifact(f"# {n} rows", key=key)
        summarize(n)
        progress = partita.create_progress_artifact(10.0)
        partita.update_progress_artifact(progress, 100.0)
        partita.create_link_artifact("https://example.org/data", link_text="data")
        return str(progress)

    progress_id = reporting(3)
    client = shared_sync_client()
    versions = client.read_artifacts(r.ArtifactFilter(artifacts=r.ArtifactFilterFields(key=s.AnyFilter(any_=[key]))))
    assert [v.type for v in versions] == [r.ArtifactType.TABLE, r.ArtifactType.MARKDOWN]  # newest first
    assert versions[0].data == [{"n": 3, "square": 9}] and versions[0].task_run_id is not None
    assert versions[1].data == "# 3 rows" and versions[1].flow_run_id == versions[0].flow_run_id
    assert versions[1].task_run_id is None
    assert client.read_latest_artifact(key).id == versions[0].id
    assert client.read_artifact(progress_id).data == 100.0
    latest = client.read_artifacts(r.ArtifactFilter(latest_only=True, artifacts=r.ArtifactFilterFields(
        key=s.AnyFilter(any_=[key]))))
    assert [a.id for a in latest] == [versions[0].id]


def test_bad_artifacts_are_refused_clearly(backend):
    with pytest.raises(UserInputError, match="keys are lowercase"):
        partita.create_markdown_artifact("x", key="Not A Key")
    from partita.exceptions import BackendError

    with pytest.raises(BackendError, match="progress artifact's data is a number from 0 to 100"):
        partita.create_progress_artifact(250)


def test_variables_get_set_unset(backend):
    name = unique("batch_size").replace("-", "_")
    assert variables.get(name) is None
    assert variables.get(name, default=7) == 7
    assert variables.set(name, {"rows": 500}) == {"rows": 500}
    assert variables.get(name) == {"rows": 500}
    with pytest.raises(ValueError, match="overwrite=True"):
        variables.set(name, 1)
    variables.set(name, [1, 2], overwrite=True, tags=["etl"])
    assert variables.Variable.get(name) == [1, 2]
    assert name in [v.name for v in shared_sync_client().read_variables(name_like=name)]
    assert variables.unset(name) is True
    assert variables.unset(name) is False
    assert variables.get(name, "gone") == "gone"


def test_concurrency_limits_one_holder_at_a_time(backend):
    name = unique("db")
    client = shared_sync_client()
    client.create_global_concurrency_limit(r.ConcurrencyLimitCreate(name=name, limit=1))
    inside, most = 0, 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal inside, most
        with partita.concurrency(name, occupy=1, timeout_seconds=30):
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0.05)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1
    assert client.read_global_concurrency_limit_by_name(name).active_slots == 0


def test_concurrency_times_out_and_releases_on_error(backend):
    name = unique("gpu")
    client = shared_sync_client()
    client.create_global_concurrency_limit(r.ConcurrencyLimitCreate(name=name, limit=1))
    with partita.concurrency(name):
        with pytest.raises(ConcurrencySlotAcquisitionError, match=name):
            with partita.concurrency(name, timeout_seconds=0.3):
                pass
    with pytest.raises(RuntimeError):
        with partita.concurrency(name):
            raise RuntimeError("inside")
    assert client.read_global_concurrency_limit_by_name(name).active_slots == 0


def test_async_concurrency_and_async_client(backend):
    name = unique("api")

    async def main() -> int:
        async with get_client() as client:
            await client.create_global_concurrency_limit(r.ConcurrencyLimitCreate(name=name, limit=2))
            async with partita.concurrency(name, occupy=2):
                held = (await client.read_global_concurrency_limit_by_name(name)).active_slots
            assert (await client.read_global_concurrency_limit_by_name(name)).active_slots == 0
            return held

    assert asyncio.run(main()) == 2


def test_tag_limits_through_the_client(backend):
    tag = unique("io")
    client = shared_sync_client()
    made = client.create_concurrency_limit(tag, 3)
    assert made.tag == tag and made.concurrency_limit == 3
    assert client.read_concurrency_limit_by_tag(tag).active_slots == []
    client.delete_concurrency_limit_by_tag(tag)
    with pytest.raises(ObjectNotFound):
        client.read_concurrency_limit_by_tag(tag)


def test_pages_graph_and_results_of_a_flow_run(backend):
    @task(persist_result=True, result_serializer="json")
    def double(x: int) -> int:
        return 2 * x

    @task
    def add(a: int, b: int) -> int:
        return a + b

    @flow(persist_result=True, result_serializer="json")
    def arithmetic() -> int:
        return add.submit(double.submit(1), double.submit(2)).result()

    state = arithmetic(return_state=True)
    flow_run_id = state.state_details["flow_run_id"]
    client = shared_sync_client()

    graph = client.read_flow_run_graph(flow_run_id)
    by_label = {node.label.split("-")[0]: node for node in graph.nodes}
    assert len(graph.nodes) == 3 and len(graph.edges) == 2
    add_node = next(n for n in graph.nodes if n.label.startswith("add"))
    assert len(add_node.parents) == 2 and all(n.state_type.value == "COMPLETED" for n in graph.nodes)
    assert set(graph.root_node_ids) == {n.id for n in graph.nodes if n.label.startswith("double")}
    assert all(n.duration is not None and n.duration >= 0 for n in graph.nodes), by_label

    flt = s.TaskRunFilter(task_runs=s.TaskRunFilterFields(flow_run_id=s.AnyFilter(any_=[flow_run_id])), limit=2)
    first = client.paginate_task_runs(flt)
    assert first.count == 3 and len(first.results) == 2 and first.next_cursor
    second = client.paginate_task_runs(flt.model_copy(update={"cursor": first.next_cursor}))
    assert len(second.results) == 1 and second.next_cursor is None
    assert {t.id for t in first.results + second.results} == {n.id for n in graph.nodes}

    record = client.read_flow_run_result(flow_run_id)
    assert record.serializer == "json" and record.summary == "6"
    if backend == "embedded":  # same storage as the SDK: the server can serve the value
        assert record.fetchable and client.read_result_bytes(record.storage_key) == b"6"
    else:  # the server's store is another folder: the record says so instead of failing later
        assert not record.fetchable and record.storage_key == state.data["storage_key"]


def test_result_store_round_trip(backend):
    key = f"shared/{uuid.uuid4().hex}/out.ipynb"
    client = shared_sync_client()
    client.write_result_bytes(key, b'{"cells": []}')
    assert client.read_result_bytes(key) == b'{"cells": []}'
    with pytest.raises(ObjectNotFound):
        client.read_result_bytes("shared/missing")


def test_flow_run_filters_by_tags_parent_and_time(backend):
    client = shared_sync_client()
    flow_id = client.create_flow(unique("tagged")).id
    mark = unique("t")
    runs = [client.create_flow_run(flow_id, f"r{i}", tags=tags) for i, tags in
            enumerate([[mark, "nightly"], [mark], ["nightly"]])]

    def names(**fields):
        flt = s.FlowRunFilter(flow_runs=s.FlowRunFilterFields(**fields), sort=s.FlowRunSort.CREATED_ASC)
        return [run.name for run in client.read_flow_runs(flt) if run.flow_id == flow_id]

    assert names(tags=s.TagsFilter(all_=[mark, "nightly"])) == ["r0"]
    assert names(tags=s.TagsFilter(any_=[mark])) == ["r0", "r1"]
    assert names(tags=s.TagsFilter(all_=[mark]), created=s.TimeFilter(after_=runs[1].created)) == ["r1"]
    assert names(tags=s.TagsFilter(all_=[mark]), created=s.TimeFilter(before_=runs[0].created)) == ["r0"]
    assert client.count_flow_runs(s.FlowRunFilter(flow_runs=s.FlowRunFilterFields(
        flow_id=s.AnyFilter(any_=[str(flow_id)])))) == 3


def test_the_client_names_every_route_it_calls(backend):
    """Contract test: each call's request path is a route of the server's OpenAPI document."""
    import re

    from partita.client.orchestration import ClientLogic
    from partita_workbench.server import create_app

    spec = create_app("sqlite+aiosqlite:///:memory:").openapi()
    patterns = [re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(p)) + "$") for p in spec["paths"]]
    calls = [name for name in dir(ClientLogic) if getattr(getattr(ClientLogic, name), "__api_call__", False)]
    assert len(calls) > 45

    class Recorder(ClientLogic):
        pass

    logic = Recorder("http://x/api")
    import inspect

    for name in calls:
        fn = getattr(logic, name)
        params = [p for p in inspect.signature(fn).parameters.values() if p.default is inspect.Parameter.empty]
        args = [_sample(p.name) for p in params]
        request = next(fn(*args))
        path = request.url.path
        assert any(p.match(path) for p in patterns), (name, path)


def _sample(name: str):
    from partita.states import Running

    if name in ("state",):
        return Running()
    if name in ("artifact",):
        return r.ArtifactCreate(type="markdown", data="x")
    if name == "limit":
        return r.ConcurrencyLimitCreate(name="x", limit=1)
    if name == "task_run":
        return s.TaskRunCreate(name="t", task_key="t")
    if name in ("names", "logs"):
        return ["x"]
    if name in ("data",):
        return b"x"
    if name in ("batch",):
        return {}
    if name in ("concurrency_limit", "slots"):
        return 1
    if name in ("value",):
        return 1
    if name.endswith("_id"):
        return str(uuid.uuid4())
    return "x"
