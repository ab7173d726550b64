"""Cache policies: how a task run's cache key is computed (as Prefect 3's ``cache_policies``).

A policy turns what is known about a task run into a key; two runs with the
same key share one persisted result, so the second is a cache hit (state
``Cached``, the function not called). Policies compose with ``+``:
``INPUTS + TASK_SOURCE`` changes key when either the inputs or the task's
source code change.

=================  ==========================================================
``INPUTS``         the task's bound arguments (``Inputs(exclude=[...])``)
``TASK_SOURCE``    the source code of the task's function
``FLOW_PARAMETERS``the parameters of the flow run
``RUN_ID``         the flow run id (cache within one flow run only)
``DEFAULT``        ``INPUTS + TASK_SOURCE + RUN_ID``, as Prefect's DEFAULT
``NO_CACHE``       never cache (the default of a task in Partita)
=================  ==========================================================

A task's ``cache_key_fn(context, parameters) -> str | None`` is a policy too.
Values are hashed from their JSON form when they have one, else from their
cloudpickle form; a value that cannot be hashed either way makes the key
``None`` (no caching for that run).
"""

from __future__ import annotations

import hashlib
import inspect
import json
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = [
    "CachePolicy",
    "CompoundCachePolicy",
    "Inputs",
    "TaskSource",
    "FlowParameters",
    "RunId",
    "NoCache",
    "CacheKeyFnPolicy",
    "INPUTS",
    "TASK_SOURCE",
    "FLOW_PARAMETERS",
    "RUN_ID",
    "DEFAULT",
    "NO_CACHE",
    "hash_objects",
]


def hash_objects(*values: Any) -> str | None:
    """A stable hex digest of ``values`` (JSON first, cloudpickle second), or ``None``."""
    try:
        blob = json.dumps(values, sort_keys=True, default=_json_default).encode()
    except (TypeError, ValueError):
        try:
            import cloudpickle

            blob = cloudpickle.dumps(values)
        except Exception:
            return None
    return hashlib.sha256(blob).hexdigest()[:32]


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return isoformat()
    raise TypeError


@dataclass(frozen=True)
class CacheContext:
    """What a policy may look at: the task, its bound inputs, the flow run."""

    task: Any
    inputs: dict[str, Any]
    flow_run_id: str | None
    flow_parameters: dict[str, Any]


class CachePolicy:
    """Base class; subclasses implement :meth:`compute_key`."""

    def compute_key(self, context: CacheContext) -> str | None:
        raise NotImplementedError

    def __add__(self, other: "CachePolicy") -> "CachePolicy":
        if isinstance(other, NoCache):
            return self
        if isinstance(self, NoCache):
            return other
        mine = self.policies if isinstance(self, CompoundCachePolicy) else [self]
        theirs = other.policies if isinstance(other, CompoundCachePolicy) else [other]
        return CompoundCachePolicy([*mine, *theirs])


@dataclass(frozen=True)
class CompoundCachePolicy(CachePolicy):
    policies: list[CachePolicy] = field(default_factory=list)

    def compute_key(self, context: CacheContext) -> str | None:
        keys = [p.compute_key(context) for p in self.policies]
        if any(k is None for k in keys):
            return None
        return hash_objects(*keys)


@dataclass(frozen=True)
class Inputs(CachePolicy):
    """Key on the task's bound arguments, minus ``exclude``."""

    exclude: tuple[str, ...] = ()

    def compute_key(self, context: CacheContext) -> str | None:
        inputs = {k: v for k, v in context.inputs.items() if k not in self.exclude}
        return hash_objects(inputs)


class TaskSource(CachePolicy):
    """Key on the source code of the task's function (its name when source is unavailable)."""

    def compute_key(self, context: CacheContext) -> str | None:
        fn = context.task.fn
        cached = getattr(context.task, "_source_hash", None)
        if cached is None:
            try:
                source = inspect.getsource(fn)
            except (OSError, TypeError):
                source = getattr(fn, "__qualname__", repr(fn))
            cached = hash_objects(source)
            try:
                context.task._source_hash = cached
            except AttributeError:
                pass
        return cached

    def __repr__(self) -> str:
        return "TASK_SOURCE"


class FlowParameters(CachePolicy):
    """Key on the parameters of the flow run."""

    def compute_key(self, context: CacheContext) -> str | None:
        return hash_objects(context.flow_parameters)

    def __repr__(self) -> str:
        return "FLOW_PARAMETERS"


class RunId(CachePolicy):
    """Key on the flow run id: results are reused only within one flow run."""

    def compute_key(self, context: CacheContext) -> str | None:
        return context.flow_run_id

    def __repr__(self) -> str:
        return "RUN_ID"


class NoCache(CachePolicy):
    """Never cache."""

    def compute_key(self, context: CacheContext) -> str | None:
        return None

    def __repr__(self) -> str:
        return "NO_CACHE"


@dataclass(frozen=True)
class CacheKeyFnPolicy(CachePolicy):
    """A user's ``cache_key_fn(context, parameters)`` (Prefect's signature)."""

    fn: Callable[[Any, dict[str, Any]], str | None]

    def compute_key(self, context: CacheContext) -> str | None:
        key = self.fn(context, context.inputs)
        return None if key is None else str(key)


INPUTS = Inputs()
TASK_SOURCE = TaskSource()
FLOW_PARAMETERS = FlowParameters()
RUN_ID = RunId()
NO_CACHE = NoCache()
DEFAULT = INPUTS + TASK_SOURCE + RUN_ID
