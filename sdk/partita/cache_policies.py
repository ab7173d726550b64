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
``UPSTREAM``       the cache keys of the upstream task runs this run waited on
``SourceText(t)``  a given text (a notebook's bytes, a shell command) as source
=================  ==========================================================

Each policy yields named *components* (``inputs``, ``source``,
``parameters``, ``run_id``, ``upstream``, ``key``); the cache key is a hash of
them, and the engine compares them with the previous run's to say why a task
was not taken from the cache (:mod:`partita.engine.caching`).

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
    "SourceText",
    "Upstream",
    "CacheContext",
    "INPUTS",
    "TASK_SOURCE",
    "FLOW_PARAMETERS",
    "RUN_ID",
    "DEFAULT",
    "NO_CACHE",
    "UPSTREAM",
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
    """What a policy may look at.

    Attributes:
        task: the :class:`partita.Task`.
        inputs: the task's bound arguments (defaults applied), upstream
            futures already replaced by their results.
        flow_run_id: id of the flow run (string), or ``None``.
        flow_parameters: parameters of the flow run.
        upstream_keys: for each upstream task run waited on, its cache key
            (or its task-run id when it had none), in the order met.
    """

    task: Any
    inputs: dict[str, Any]
    flow_run_id: str | None
    flow_parameters: dict[str, Any]
    upstream_keys: tuple[str, ...] = ()


class CachePolicy:
    """Base class; subclasses implement :meth:`components`."""

    def components(self, context: CacheContext) -> dict[str, str] | None:
        """Named parts of the key (``None``: this run cannot be cached)."""
        raise NotImplementedError

    def compute_key(self, context: CacheContext) -> str | None:
        """The cache key: a hash of :meth:`components`, or ``None``."""
        parts = self.components(context)
        return None if parts is None else key_of(parts)

    def __add__(self, other: "CachePolicy") -> "CachePolicy":
        if isinstance(other, NoCache):
            return self
        if isinstance(self, NoCache):
            return other
        mine = self.policies if isinstance(self, CompoundCachePolicy) else [self]
        theirs = other.policies if isinstance(other, CompoundCachePolicy) else [other]
        return CompoundCachePolicy([*mine, *theirs])


def key_of(components: dict[str, str]) -> str:
    """The cache key of a set of components (a single ``key`` component is the key itself)."""
    if set(components) == {"key"}:
        return components["key"]
    return hash_objects(sorted(components.items())) or ""


@dataclass(frozen=True)
class CompoundCachePolicy(CachePolicy):
    """Several policies at once; a component named twice is combined."""

    policies: list[CachePolicy] = field(default_factory=list)

    def components(self, context: CacheContext) -> dict[str, str] | None:
        merged: dict[str, str] = {}
        for policy in self.policies:
            parts = policy.components(context)
            if parts is None:
                return None
            for name, value in parts.items():
                merged[name] = value if name not in merged else hash_objects(merged[name], value) or value
        return merged

    def __repr__(self) -> str:
        return " + ".join(repr(p) for p in self.policies)


@dataclass(frozen=True)
class Inputs(CachePolicy):
    """Key on the task's bound arguments, minus ``exclude``."""

    exclude: tuple[str, ...] = ()

    def components(self, context: CacheContext) -> dict[str, str] | None:
        inputs = {k: v for k, v in context.inputs.items() if k not in self.exclude}
        digest = hash_objects(inputs)
        return None if digest is None else {"inputs": digest}

    def __repr__(self) -> str:
        return "INPUTS" if not self.exclude else f"Inputs(exclude={list(self.exclude)})"


class TaskSource(CachePolicy):
    """Key on the source code of the task's function (its qualified name when source is unavailable)."""

    def components(self, context: CacheContext) -> dict[str, str] | None:
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
        return {"source": cached}

    def __repr__(self) -> str:
        return "TASK_SOURCE"


@dataclass(frozen=True)
class SourceText(CachePolicy):
    """Key on a given text standing for the task's code (a notebook's bytes, a shell command).

    For tasks compiled from YAML or notebooks, whose code is not the Python
    function the engine calls. ``text`` may be ``str`` or ``bytes``.
    """

    text: str | bytes

    def components(self, context: CacheContext) -> dict[str, str] | None:
        blob = self.text.encode() if isinstance(self.text, str) else self.text
        return {"source": hashlib.sha256(blob).hexdigest()[:32]}

    def __repr__(self) -> str:
        return "SourceText(...)"


class FlowParameters(CachePolicy):
    """Key on the parameters of the flow run."""

    def components(self, context: CacheContext) -> dict[str, str] | None:
        digest = hash_objects(context.flow_parameters)
        return None if digest is None else {"parameters": digest}

    def __repr__(self) -> str:
        return "FLOW_PARAMETERS"


class RunId(CachePolicy):
    """Key on the flow run id: results are reused only within one flow run."""

    def components(self, context: CacheContext) -> dict[str, str] | None:
        return None if context.flow_run_id is None else {"run_id": context.flow_run_id}

    def __repr__(self) -> str:
        return "RUN_ID"


class Upstream(CachePolicy):
    """Key on the cache keys of the upstream task runs (their ids when they have none).

    Makes a task's key change whenever something it waited on changed, even
    when no value was passed (``wait_for=``, YAML ``needs:``).
    """

    def components(self, context: CacheContext) -> dict[str, str] | None:
        return {"upstream": hash_objects(list(context.upstream_keys)) or ""}

    def __repr__(self) -> str:
        return "UPSTREAM"


class NoCache(CachePolicy):
    """Never cache."""

    def components(self, context: CacheContext) -> dict[str, str] | None:
        return None

    def __repr__(self) -> str:
        return "NO_CACHE"


@dataclass(frozen=True)
class CacheKeyFnPolicy(CachePolicy):
    """A user's ``cache_key_fn(context, parameters) -> str | None`` (Prefect's signature).

    ``context`` is the :class:`CacheContext`; ``parameters`` the bound inputs.
    """

    fn: Callable[[Any, dict[str, Any]], str | None]

    def components(self, context: CacheContext) -> dict[str, str] | None:
        key = self.fn(context, context.inputs)
        return None if key is None else {"key": str(key)}

    def __repr__(self) -> str:
        return f"cache_key_fn={getattr(self.fn, '__name__', self.fn)!r}"


INPUTS = Inputs()
TASK_SOURCE = TaskSource()
FLOW_PARAMETERS = FlowParameters()
RUN_ID = RunId()
UPSTREAM = Upstream()
NO_CACHE = NoCache()
DEFAULT = INPUTS + TASK_SOURCE + RUN_ID
