"""Task-run caching: key, lookup, store, and why a run was not taken from the cache.

A task with a cache policy (``@task(cache_policy=...)`` or ``cache_key_fn``)
gets a cache key before it runs. Cached values live under the result storage
root (``PARTITA_RESULT_STORAGE``, or the task's ``result_storage``), as
Prefect 3 keeps cached results in result storage under their key::

    cache/<key>[.<serializer>]     the value (suffix unless cloudpickle)
    cache/last/<digest>.json       the components of the last computed run of
                                   one task at one call position (task key +
                                   dynamic key), to explain the next miss

A hit is a value file younger than the task's ``cache_expiration`` (its
modification time is when it was stored); a lookup costs one ``stat``, and
the value is read only when the result is used. A miss runs the task and
writes both files. The reason of a miss is one of
``no previous run``, ``source changed``, ``inputs changed``,
``upstream changed``, ``parameters changed``, ``flow run changed``,
``cache key changed``, ``refresh asked``, ``cache expired``,
``stored result missing``.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import time
from typing import TYPE_CHECKING, Any

from partita.cache_policies import CacheContext, CachePolicy, key_of
from partita.results import modified_time, persist_result, read_bytes, storage_root, write_bytes

if TYPE_CHECKING:
    from partita.context import FlowRunContext, TaskRunRecord
    from partita.tasks import Task

# component name -> what the miss reason calls it, in the order reasons are given
_REASONS = (
    ("source", "source changed"),
    ("inputs", "inputs changed"),
    ("upstream", "upstream changed"),
    ("parameters", "parameters changed"),
    ("run_id", "flow run changed"),
    ("key", "cache key changed"),
)


class CacheEntry:
    """The cache decision of one task run: its key, components and, on a miss, why.

    Attributes:
        key: the cache key.
        components: named parts of the key.
        root: result storage root the entry lives under.
        hit: the stored result record on a hit, else ``None``.
        miss_reason: on a miss, why (see the module docstring).
    """

    __slots__ = ("key", "components", "root", "hit", "miss_reason", "_last_url")

    def __init__(self, key: str, components: dict[str, str], root: str, last_url: str) -> None:
        self.key = key
        self.components = components
        self.root = root
        self.hit: dict[str, Any] | None = None
        self.miss_reason: str | None = None
        self._last_url = last_url

    def store(self, value: Any, serializer: str) -> dict[str, Any]:
        """Persist ``value`` under the key and return its result record.

        Raises:
            TypeError / pickle.PicklingError: the value cannot be serialized.
        """
        record = persist_result(value, key=_value_key(self.key, serializer), storage=self.root, serializer=serializer)
        write_bytes(self._last_url, json.dumps({"key": self.key, "components": self.components}).encode())
        return record


def _value_key(key: str, serializer: str) -> str:
    return f"cache/{key}" if serializer == "cloudpickle" else f"cache/{key}.{serializer}"


def _value_url(root: str, key: str, serializer: str) -> str:
    return f"{root}/{_value_key(key, serializer)}"


def has_cached_value(task: "Task", components: dict[str, str]) -> bool:
    """Whether a value is stored under the key of ``components`` for ``task`` (expiration not checked).

    For policies whose components depend on whether a previous run's value
    exists (e.g. re-running when files a task wrote are gone).
    """
    root = storage_root(task.result_storage).rstrip("/")
    return modified_time(_value_url(root, _safe(key_of(components)), task.result_serializer)) is not None


def policy_of(task: "Task") -> CachePolicy | None:
    """The task's effective cache policy, or ``None`` when it never caches."""
    from partita.cache_policies import CacheKeyFnPolicy, NoCache

    policy = task.cache_policy
    if task.cache_key_fn is not None:
        fn_policy = CacheKeyFnPolicy(task.cache_key_fn)
        policy = fn_policy if policy is None or isinstance(policy, NoCache) else fn_policy + policy
    if policy is None or isinstance(policy, NoCache):
        return None
    return policy


def bound_inputs(task: "Task", args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The call's arguments by parameter name, defaults applied."""
    signature = task.__dict__.get("_signature")
    if signature is None:
        signature = task.__dict__["_signature"] = inspect.signature(task.fn)
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return {"args": list(args), "kwargs": kwargs}
    bound.apply_defaults()
    return dict(bound.arguments)


def prepare(task: "Task", policy: CachePolicy, record: "TaskRunRecord", flow_ctx: "FlowRunContext",
            inputs: dict[str, Any], upstream: list[str], refresh: bool) -> CacheEntry | None:
    """Compute the key of one task run and look it up.

    Returns ``None`` when the policy gives no key for this run (e.g. inputs
    that cannot be hashed): the run is then not cached at all.
    """
    keys = flow_ctx.cache_keys
    context = CacheContext(
        task=task,
        inputs=inputs,
        flow_run_id=str(flow_ctx.flow_run.id),
        flow_parameters=flow_ctx.flow_run.parameters,
        upstream_keys=tuple(keys.get(u, u) for u in dict.fromkeys(upstream)),
    )
    components = policy.components(context)
    if components is None:
        return None
    key = _safe(key_of(components))
    root = storage_root(task.result_storage).rstrip("/")
    position = hashlib.sha256(f"{record.task_key}\0{record.dynamic_key}".encode()).hexdigest()[:32]
    entry = CacheEntry(key, components, root, f"{root}/cache/last/{position}.json")
    record.cache_key = key
    keys[record.id] = key
    expired = False
    if not refresh:
        url = _value_url(root, key, task.result_serializer)
        stored_at = modified_time(url)
        if stored_at is not None:
            expiration = task.cache_expiration
            if expiration is not None and stored_at + expiration.total_seconds() <= time.time():
                expired = True
            else:
                entry.hit = {"storage_key": url, "serializer": task.result_serializer}
                return entry
    entry.miss_reason = _miss_reason(entry, refresh, expired)
    return entry


def _safe(key: str) -> str:
    """``key`` when it is a plain file name, else a digest of it (a key never names a path)."""
    if key and len(key) <= 128 and all(c.isalnum() or c in "-_." for c in key) and not key.startswith("."):
        return key
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def _miss_reason(entry: CacheEntry, refresh: bool, expired: bool) -> str:
    if refresh:
        return "refresh asked"
    if expired:
        return "cache expired"
    last = _read_json(entry._last_url)
    if last is None:
        return "no previous run"
    before: dict[str, str] = last.get("components") or {}
    for name, reason in _REASONS:
        if before.get(name) != entry.components.get(name):
            return reason
    for name in sorted(set(before) | set(entry.components)):
        if before.get(name) != entry.components.get(name):
            return f"{name} changed"
    return "stored result missing"


def _read_json(url: str) -> dict[str, Any] | None:
    blob = read_bytes(url)
    if blob is None:
        return None
    try:
        value = json.loads(blob)
    except ValueError:  # a damaged entry counts as absent
        return None
    return value if isinstance(value, dict) else None
