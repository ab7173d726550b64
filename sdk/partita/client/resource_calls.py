"""API calls for the resources around runs, as generators (see :mod:`partita.client.orchestration`).

Mixed into ``ClientLogic``, so :class:`~partita.client.orchestration.PartitaClient`
and :class:`~partita.client.orchestration.SyncPartitaClient` both expose them.
Method names and arguments follow Prefect 3's client
(``create_artifact``, ``read_variable_by_name``, ``increment_concurrency_slots``...).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, Generator, TypeVar

from partita.client import resource_schemas as r
from partita.client import schemas as s

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")
Call = Generator["httpx.Request", "httpx.Response", T]


def api_call(fn: Any) -> Any:
    """Mark a generator method as an API call to be exposed by both drivers."""
    fn.__api_call__ = True
    return fn


def _body(model: Any) -> Any:
    return model.model_dump(mode="json", exclude_none=True) if model is not None else None


class ResourceCalls:
    """Calls on flows, run pages, graphs, results, artifacts, variables and concurrency limits."""

    # provided by ClientLogic
    def _request(self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None,
                 content: bytes | None = None) -> "httpx.Request": ...  # pragma: no cover

    @staticmethod
    def _check(response: "httpx.Response") -> "httpx.Response": ...  # pragma: no cover

    # -- admin -------------------------------------------------------------------
    @api_call
    def api_version(self) -> Call[str]:
        """The server's version string."""
        response = yield self._request("GET", "/version")
        return self._check(response).json()["version"]

    # -- flows and runs --------------------------------------------------------------
    @api_call
    def read_flow(self, flow_id: uuid.UUID | str) -> Call[s.FlowModel]:
        response = yield self._request("GET", f"/flows/{flow_id}")
        return s.FlowModel.model_validate(self._check(response).json())

    @api_call
    def read_flows(self, names: list[str] | None = None, limit: int = 200, offset: int = 0) -> Call[list[s.FlowModel]]:
        body: dict[str, Any] = {"limit": limit, "offset": offset}
        if names is not None:
            body["flows"] = {"name": {"any_": names}}
        response = yield self._request("POST", "/flows/filter", json=body)
        return [s.FlowModel.model_validate(f) for f in self._check(response).json()]

    @api_call
    def count_flow_runs(self, flow_run_filter: s.FlowRunFilter | None = None) -> Call[int]:
        response = yield self._request("POST", "/flow_runs/count", json=_body(flow_run_filter or s.FlowRunFilter()))
        return int(self._check(response).json())

    @api_call
    def paginate_flow_runs(self, flow_run_filter: s.FlowRunFilter | None = None) -> Call[s.Page]:
        """One page (``results`` are :class:`FlowRunModel`); pass ``next_cursor`` as the filter's ``cursor``."""
        response = yield self._request("POST", "/flow_runs/paginate", json=_body(flow_run_filter or s.FlowRunFilter()))
        page = s.Page.model_validate(self._check(response).json())
        page.results = [s.FlowRunModel.model_validate(x) for x in page.results]
        return page

    @api_call
    def read_flow_run_graph(self, flow_run_id: uuid.UUID | str) -> Call[r.RunGraph]:
        response = yield self._request("GET", f"/flow_runs/{flow_run_id}/graph")
        return r.RunGraph.model_validate(self._check(response).json())

    @api_call
    def read_flow_run_result(self, flow_run_id: uuid.UUID | str) -> Call[r.ResultRecordModel]:
        response = yield self._request("GET", f"/flow_runs/{flow_run_id}/result")
        return r.ResultRecordModel.model_validate(self._check(response).json())

    @api_call
    def create_task_run(self, task_run: s.TaskRunCreate) -> Call[s.TaskRunModel]:
        response = yield self._request("POST", "/task_runs/", json=task_run.model_dump(mode="json"))
        return s.TaskRunModel.model_validate(self._check(response).json())

    @api_call
    def set_task_run_state(self, task_run_id: uuid.UUID | str, state: Any, force: bool = False) -> Call[s.OrchestrationResult]:
        """Propose ``state`` (a :class:`partita.State` or :class:`StateModel`) for a task run."""
        payload = state.to_json() if hasattr(state, "to_json") else state.model_dump(mode="json")
        response = yield self._request("POST", f"/task_runs/{task_run_id}/set_state", json={"state": payload, "force": force})
        return s.OrchestrationResult.model_validate(self._check(response).json())

    @api_call
    def filter_task_runs(self, task_run_filter: s.TaskRunFilter | None = None) -> Call[list[s.TaskRunModel]]:
        response = yield self._request("POST", "/task_runs/filter", json=_body(task_run_filter or s.TaskRunFilter()))
        return [s.TaskRunModel.model_validate(x) for x in self._check(response).json()]

    @api_call
    def count_task_runs(self, task_run_filter: s.TaskRunFilter | None = None) -> Call[int]:
        response = yield self._request("POST", "/task_runs/count", json=_body(task_run_filter or s.TaskRunFilter()))
        return int(self._check(response).json())

    @api_call
    def paginate_task_runs(self, task_run_filter: s.TaskRunFilter | None = None) -> Call[s.Page]:
        response = yield self._request("POST", "/task_runs/paginate", json=_body(task_run_filter or s.TaskRunFilter()))
        page = s.Page.model_validate(self._check(response).json())
        page.results = [s.TaskRunModel.model_validate(x) for x in page.results]
        return page

    @api_call
    def read_task_run_result(self, task_run_id: uuid.UUID | str) -> Call[r.ResultRecordModel]:
        response = yield self._request("GET", f"/task_runs/{task_run_id}/result")
        return r.ResultRecordModel.model_validate(self._check(response).json())

    @api_call
    def paginate_logs(self, log_filter: s.LogFilter | None = None) -> Call[s.Page]:
        response = yield self._request("POST", "/logs/paginate", json=_body(log_filter or s.LogFilter()))
        page = s.Page.model_validate(self._check(response).json())
        page.results = [s.LogModel.model_validate(x) for x in page.results]
        return page

    # -- results store -------------------------------------------------------------------
    @api_call
    def write_result_bytes(self, key: str, data: bytes) -> Call[None]:
        """Store ``data`` under ``key`` in the server's result store."""
        from partita.result_store import quoted_key

        response = yield self._request("PUT", f"/results/{quoted_key(key)}", content=data)
        self._check(response)

    @api_call
    def read_result_bytes(self, key: str) -> Call[bytes]:
        """The bytes under ``key`` in the server's result store (never deserialized here)."""
        from partita.result_store import quoted_key

        response = yield self._request("GET", f"/results/{quoted_key(key)}")
        return self._check(response).content

    @api_call
    def read_result_info(self, key: str) -> Call[dict[str, str]]:
        """Headers describing what is under ``key``: ``content-length``, ``last-modified`` (HTTP date).

        Raises:
            partita.exceptions.ObjectNotFound: nothing is stored under ``key``.
        """
        from partita.result_store import quoted_key

        response = yield self._request("HEAD", f"/results/{quoted_key(key)}")
        return dict(self._check(response).headers)

    # -- artifacts -------------------------------------------------------------------------
    @api_call
    def create_artifact(self, artifact: r.ArtifactCreate) -> Call[r.ArtifactModel]:
        response = yield self._request("POST", "/artifacts/", json=artifact.model_dump(mode="json"))
        return r.ArtifactModel.model_validate(self._check(response).json())

    @api_call
    def read_artifact(self, artifact_id: uuid.UUID | str) -> Call[r.ArtifactModel]:
        response = yield self._request("GET", f"/artifacts/{artifact_id}")
        return r.ArtifactModel.model_validate(self._check(response).json())

    @api_call
    def read_latest_artifact(self, key: str) -> Call[r.ArtifactModel]:
        response = yield self._request("GET", f"/artifacts/{key}/latest")
        return r.ArtifactModel.model_validate(self._check(response).json())

    @api_call
    def read_artifacts(self, artifact_filter: r.ArtifactFilter | None = None) -> Call[list[r.ArtifactModel]]:
        response = yield self._request("POST", "/artifacts/filter", json=_body(artifact_filter or r.ArtifactFilter()))
        return [r.ArtifactModel.model_validate(x) for x in self._check(response).json()]

    @api_call
    def count_artifacts(self, artifact_filter: r.ArtifactFilter | None = None) -> Call[int]:
        response = yield self._request("POST", "/artifacts/count", json=_body(artifact_filter or r.ArtifactFilter()))
        return int(self._check(response).json())

    @api_call
    def update_artifact(self, artifact_id: uuid.UUID | str, data: Any = None, description: str | None = None) -> Call[None]:
        body: dict[str, Any] = {"data": data}
        if description is not None:
            body["description"] = description
        response = yield self._request("PATCH", f"/artifacts/{artifact_id}", json=body)
        self._check(response)

    @api_call
    def delete_artifact(self, artifact_id: uuid.UUID | str) -> Call[None]:
        response = yield self._request("DELETE", f"/artifacts/{artifact_id}")
        self._check(response)

    # -- variables -------------------------------------------------------------------------
    @api_call
    def create_variable(self, name: str, value: Any, tags: list[str] | None = None) -> Call[r.VariableModel]:
        response = yield self._request("POST", "/variables/", json={"name": name, "value": value, "tags": tags or []})
        return r.VariableModel.model_validate(self._check(response).json())

    @api_call
    def read_variable_by_name(self, name: str) -> Call[r.VariableModel | None]:
        """The variable ``name``, or None when there is none (as Prefect's client)."""
        response = yield self._request("GET", f"/variables/name/{name}")
        if response.status_code == 404:
            return None
        return r.VariableModel.model_validate(self._check(response).json())

    @api_call
    def update_variable(self, name: str, value: Any, tags: list[str] | None = None) -> Call[None]:
        body: dict[str, Any] = {"value": value}
        if tags is not None:
            body["tags"] = tags
        response = yield self._request("PATCH", f"/variables/name/{name}", json=body)
        self._check(response)

    @api_call
    def delete_variable_by_name(self, name: str) -> Call[None]:
        response = yield self._request("DELETE", f"/variables/name/{name}")
        self._check(response)

    @api_call
    def read_variables(self, name_like: str | None = None, limit: int = 200, offset: int = 0) -> Call[list[r.VariableModel]]:
        body = {"name_like": name_like, "limit": limit, "offset": offset}
        response = yield self._request("POST", "/variables/filter", json=body)
        return [r.VariableModel.model_validate(x) for x in self._check(response).json()]

    # -- concurrency limits ------------------------------------------------------------------
    @api_call
    def create_global_concurrency_limit(self, limit: r.ConcurrencyLimitCreate) -> Call[r.ConcurrencyLimitModel]:
        response = yield self._request("POST", "/v2/concurrency_limits/", json=limit.model_dump(mode="json"))
        return r.ConcurrencyLimitModel.model_validate(self._check(response).json())

    @api_call
    def read_global_concurrency_limit_by_name(self, name: str) -> Call[r.ConcurrencyLimitModel]:
        response = yield self._request("GET", f"/v2/concurrency_limits/{name}")
        return r.ConcurrencyLimitModel.model_validate(self._check(response).json())

    @api_call
    def update_global_concurrency_limit(self, name: str, limit: int | None = None, active: bool | None = None) -> Call[r.ConcurrencyLimitModel]:
        body = r.ConcurrencyLimitUpdate(limit=limit, active=active)
        response = yield self._request("PATCH", f"/v2/concurrency_limits/{name}", json=_body(body))
        return r.ConcurrencyLimitModel.model_validate(self._check(response).json())

    @api_call
    def delete_global_concurrency_limit_by_name(self, name: str) -> Call[None]:
        response = yield self._request("DELETE", f"/v2/concurrency_limits/{name}")
        self._check(response)

    @api_call
    def read_global_concurrency_limits(self, limit: int = 200, offset: int = 0) -> Call[list[r.ConcurrencyLimitModel]]:
        response = yield self._request("POST", "/v2/concurrency_limits/filter", json={"limit": limit, "offset": offset})
        return [r.ConcurrencyLimitModel.model_validate(x) for x in self._check(response).json()]

    @api_call
    def increment_concurrency_slots(self, names: list[str], slots: int = 1, create_if_missing: bool = False) -> Call[list[r.MinimalConcurrencyLimit]]:
        """Take ``slots`` of each named limit, all or none.

        Raises:
            partita.exceptions.SlotsUnavailable: a limit has no room now (423).
        """
        body = {"names": names, "slots": slots, "create_if_missing": create_if_missing}
        response = yield self._request("POST", "/v2/concurrency_limits/increment", json=body)
        return [r.MinimalConcurrencyLimit.model_validate(x) for x in self._check(response).json()]

    @api_call
    def release_concurrency_slots(self, names: list[str], slots: int = 1) -> Call[list[r.MinimalConcurrencyLimit]]:
        response = yield self._request("POST", "/v2/concurrency_limits/decrement", json={"names": names, "slots": slots})
        return [r.MinimalConcurrencyLimit.model_validate(x) for x in self._check(response).json()]

    @api_call
    def create_concurrency_limit(self, tag: str, concurrency_limit: int) -> Call[r.TagConcurrencyLimitModel]:
        """Limit the task runs tagged ``tag`` RUNNING at once (Prefect's tag-based limit)."""
        body = {"tag": tag, "concurrency_limit": concurrency_limit}
        response = yield self._request("POST", "/concurrency_limits/", json=body)
        return r.TagConcurrencyLimitModel.model_validate(self._check(response).json())

    @api_call
    def read_concurrency_limit_by_tag(self, tag: str) -> Call[r.TagConcurrencyLimitModel]:
        response = yield self._request("GET", f"/concurrency_limits/tag/{tag}")
        return r.TagConcurrencyLimitModel.model_validate(self._check(response).json())

    @api_call
    def delete_concurrency_limit_by_tag(self, tag: str) -> Call[None]:
        response = yield self._request("DELETE", f"/concurrency_limits/tag/{tag}")
        self._check(response)

    @api_call
    def read_concurrency_limits(self, limit: int = 200, offset: int = 0) -> Call[list[r.TagConcurrencyLimitModel]]:
        response = yield self._request("POST", "/concurrency_limits/filter", json={"limit": limit, "offset": offset})
        return [r.TagConcurrencyLimitModel.model_validate(x) for x in self._check(response).json()]
