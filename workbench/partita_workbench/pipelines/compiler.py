"""Compiling a validated :class:`~.loader.Pipeline` into a :class:`partita.Flow`.

The flow's parameters are the pipeline's ``parameters:`` (a real
``inspect.Signature``, so the flow validates types like any Python flow). Its
function submits every task in topological order, each with ``wait_for=`` the
futures of its ``needs:``, and with the futures of the tasks it references
passed inside its arguments; tasks that do not depend on each other therefore
run concurrently on the flow's task runner. It returns ``{task key: result}``
(a list of results for a ``map:`` task).

Expressions are evaluated inside each task run, once upstream results are
known (see :mod:`.steps`); only ``map:`` is evaluated by the flow itself,
since it decides how many task runs to submit.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import os
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from partita import Flow, Task, cache_policies
from partita.exceptions import InvalidTarget

from partita_workbench.pipelines import steps
from partita_workbench.pipelines.expressions import ExpressionError, analyze, evaluate, find_expressions, whole_expression
from partita_workbench.pipelines.loader import Pipeline, load_pipeline, task_references
from partita_workbench.pipelines.spec import PARAMETER_TYPES, CacheSpec, PipelineSpec, TaskOptions, TaskSpec
from partita_workbench.pipelines.targets import resolve_callable
from partita_workbench.pipelines.yamlio import gc_paused

__all__ = ["compile_pipeline", "task_options", "cache_policy"]

_POLICIES = {
    "inputs": cache_policies.Inputs(exclude=("upstream",)),
    "upstream": cache_policies.UPSTREAM,
    "parameters": cache_policies.FLOW_PARAMETERS,
    "run_id": cache_policies.RUN_ID,
    "none": cache_policies.NO_CACHE,
}


@dataclass(frozen=True)
class _Step:
    """One task of the compiled plan.

    Attributes:
        key: the YAML task key (the task run's name).
        task: the :class:`partita.Task` to submit.
        template: the static YAML the task function renders (see :mod:`.steps`).
        params, env, run: names its expressions reference in each scope.
        upstream: task keys its expressions reference (their futures are passed).
        needs: task keys from ``needs:`` (their futures go to ``wait_for=``).
        map: the ``map:`` list or expression, ``None`` when the task is not mapped.
        map_upstream: task keys the ``map:`` expression references.
        environment: the pipeline's and the task's ``env:``, for ``${{ env.X }}``.
    """

    key: str
    task: Task
    template: dict[str, Any]
    params: tuple[str, ...]
    env: tuple[str, ...]
    run: tuple[str, ...]
    upstream: tuple[str, ...]
    needs: tuple[str, ...]
    map: Any = None
    map_upstream: tuple[str, ...] = field(default=())
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def depends_on(self) -> tuple[str, ...]:
        """Every task whose future this step needs before it is submitted."""
        return (*self.upstream, *self.needs, *self.map_upstream)


def task_options(defaults: TaskOptions, spec: TaskSpec) -> TaskOptions:
    """A task's options with ``defaults:`` applied: the task's own values win; tags and env are combined."""
    own = spec.model_fields_set
    merged = {name: getattr(spec if name in own else defaults, name) for name in TaskOptions.model_fields}
    merged["tags"] = list(dict.fromkeys([*defaults.tags, *spec.tags]))
    merged["env"] = {**defaults.env, **spec.env}
    return TaskOptions.model_construct(**merged)


@functools.lru_cache(maxsize=4096)
def _function_source(target: Any) -> str:
    """The source of a task's Python function (its qualified name when the source cannot be read)."""
    try:
        return inspect.getsource(target)
    except (OSError, TypeError):
        return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', repr(target))}"


def _source_text(spec: TaskSpec, target: Any, folder: Path) -> str | bytes:
    """What stands for a task's code in its cache key."""
    if spec.kind == "python":
        return _function_source(target)
    if spec.kind == "notebook":
        return (folder / spec.notebook).read_bytes()
    if spec.kind == "pipeline":
        return (folder / spec.pipeline).read_bytes()
    return spec.shell or ""


def cache_policy(spec: TaskSpec, options: TaskOptions, source: str | bytes) -> Any:
    """The SDK cache policy of a YAML task (``None``: not cached).

    By default a task is cached on ``SourceText(code) + INPUTS + UPSTREAM``:
    its code (:func:`_source_text`), its resolved inputs (the YAML arguments
    and the parameter, environment and run values its expressions use; the
    upstream results are left to the upstream cache keys) and the cache keys
    of the task runs it waited on. A ``pipeline:`` task is not cached unless
    its ``cache:`` says so (the sub-pipeline's own tasks are).
    """
    cache = options.cache
    if cache is False or (cache is None and spec.kind == "pipeline"):
        return None
    names = ["default"] if cache is None or cache is True else cache.policy
    policy: Any = cache_policies.NO_CACHE
    for name in names:
        if name == "default":
            policy = policy + cache_policies.SourceText(source) + _POLICIES["inputs"] + cache_policies.UPSTREAM
        elif name == "source":
            policy = policy + cache_policies.SourceText(source)
        else:
            policy = policy + _POLICIES[name]
    return None if isinstance(policy, cache_policies.NoCache) else policy


def _function(key: str, spec: TaskSpec, folder: Path, refresh: bool | frozenset[str]) -> tuple[steps.TaskFunction, Any, Any]:
    """``(task function, arguments template, the callable or file behind it)``."""
    if spec.kind == "python":
        target = resolve_callable(spec.python, folder)
        return steps.python_function(target), spec.with_, target
    if spec.kind == "notebook":
        return steps.notebook_function((folder / spec.notebook).resolve()), spec.parameters, None
    if spec.kind == "pipeline":
        child = compile_pipeline((folder / spec.pipeline).resolve(), refresh=refresh is True)
        return steps.pipeline_function(child), spec.parameters, None
    return steps.shell_function(key), spec.shell, None


def _working_directory(spec: TaskSpec, folder: Path) -> Path | None:
    """Where a shell command or a notebook's kernel runs: ``cwd:``, else the pipeline's folder / the notebook's."""
    if spec.cwd:
        return (folder / spec.cwd).resolve()
    if spec.kind == "shell":
        return folder
    if spec.kind == "notebook":
        return (folder / spec.notebook).resolve().parent
    return None


def _step(key: str, spec: TaskSpec, pipeline: Pipeline, refresh: bool | frozenset[str]) -> _Step:
    options = task_options(pipeline.spec.defaults, spec)
    fn, args, target = _function(key, spec, pipeline.folder, refresh)
    template: dict[str, Any] = {"args": args}
    if spec.if_ is not None:
        template["if"] = spec.if_
    if spec.outputs is not None:
        template["outputs"] = spec.outputs
    workdir = _working_directory(spec, pipeline.folder)
    if workdir is not None:
        # an input like any other, so part of the cache key: the same command
        # (or notebook) in another folder is another computation
        template["cwd"] = str(workdir)
    if spec.kind == "notebook" and spec.kernel:
        template["kernel"] = spec.kernel
    env = {**pipeline.spec.env, **options.env}
    if env and spec.kind == "shell":
        template["env"] = env
    policy = cache_policy(spec, options, _source_text(spec, target, pipeline.folder))
    expiration = options.cache.expiration if isinstance(options.cache, CacheSpec) else None
    task = Task(
        fn,
        name=key,
        tags=options.tags,
        retries=options.retries or 0,
        retry_delay_seconds=options.retry_delay_seconds or 0,
        timeout_seconds=options.timeout_seconds,
        persist_result=True,
        description=spec.description,
        cache_policy=policy,
        cache_expiration=expiration,
        refresh_cache=True if refresh is True or (refresh and key in refresh) else None,
    )
    task.task_key = f"pipeline:{pipeline.path}:{key}"  # one cache history per pipeline task
    references = pipeline.references.get(key) or tuple(task_references(spec))
    map_upstream: tuple[str, ...] = ()
    if isinstance(spec.map, str):
        map_upstream = tuple(dict.fromkeys(
            ref.name for e in find_expressions(spec.map) for ref in analyze(e).references if ref.scope == "tasks"
        ))

    def names(scope: str) -> tuple[str, ...]:
        return tuple(ref.name for ref in references if ref.scope == scope)

    return _Step(
        key=key,
        task=task,
        template=template,
        params=names("params"),
        env=names("env"),
        run=names("run"),
        upstream=names("tasks"),
        needs=tuple(spec.needs),
        map=spec.map,
        map_upstream=map_upstream,
        environment=env,
    )


def _with_downstream(keys: frozenset[str], dependencies: dict[str, frozenset[str]]) -> frozenset[str]:
    """``keys`` and every task that depends on one of them, directly or not.

    A refreshed task stores a new result under the same cache key, so its
    downstream tasks' keys do not change; they are refreshed too, so the new
    result reaches them.
    """
    found = set(keys)
    changed = True
    while changed:
        changed = False
        for task, needs in dependencies.items():
            if task not in found and needs & found:
                found.add(task)
                changed = True
    return frozenset(found)


def _signature(spec: PipelineSpec) -> inspect.Signature:
    parameters = []
    for name, param in spec.parameters.items():
        default = inspect.Parameter.empty if param.required else param.default
        annotation: Any = PARAMETER_TYPES[param.type]
        if isinstance(default, str) and annotation is dt.date:  # YAML dates are read as ISO text
            default = dt.date.fromisoformat(default)
        elif isinstance(default, str) and annotation is dt.datetime:
            default = dt.datetime.fromisoformat(default)
        if default is None:
            annotation = annotation | None  # an explicit "default: null"
        parameters.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation))
    return inspect.Signature(parameters)


class _Run:
    """What one flow run of the pipeline knows while it submits tasks."""

    def __init__(self, pipeline: Pipeline, values: dict[str, Any]) -> None:
        from partita import runtime

        self.params = values
        self.env = {**os.environ, **pipeline.spec.env}
        self.run = {"id": runtime.flow_run.id, "scheduled_start": dt.datetime.now(dt.timezone.utc)}
        self.futures: dict[str, Any] = {}

    def values(self, step: _Step) -> dict[str, Any]:
        env = {**self.env, **step.environment}
        values: dict[str, Any] = {"params": {n: self.params[n] for n in step.params}}
        if step.env:
            values["env"] = {n: env[n] for n in step.env if n in env}
        if step.run:
            values["run"] = {n: self.run[n] for n in step.run}
        return values

    def submit_all(self, plan: list[_Step]) -> None:
        """Submit every step, each once the futures it needs exist.

        A ``map:`` over task results can only be expanded once those tasks
        have finished; steps that do not depend on it are submitted first,
        so they run meanwhile.
        """
        pending = list(plan)
        while pending:
            ready = [s for s in pending if all(d in self.futures for d in s.depends_on) and self._expandable(s)]
            if not ready:  # every step left waits for a map's upstream to finish
                blocked = next(s for s in pending if all(d in self.futures for d in s.depends_on))
                for name in blocked.map_upstream:
                    _wait(self.futures[name])
                continue
            for step in ready:
                self.futures[step.key] = self.submit(step)
            pending = [s for s in pending if s.key not in self.futures]

    def _expandable(self, step: _Step) -> bool:
        if step.map is None or isinstance(step.map, list):
            return True
        return all(_done(self.futures[name]) for name in step.map_upstream)

    def submit(self, step: _Step) -> Any:
        values = self.values(step)
        upstream = {name: self.futures[name] for name in step.upstream}
        wait_for = [self.futures[name] for name in step.needs]
        if step.map is None:
            return step.task.submit(step.template, values, upstream, wait_for=wait_for)
        items, problem = self._items(step, values)
        if problem is not None or items is None:
            # one run that fails with the problem (or waits on a failed upstream and is NotReady)
            mapped_upstream = {**upstream, **{n: self.futures[n] for n in step.map_upstream}}
            return step.task.submit(step.template, values, mapped_upstream, map_error=problem, wait_for=wait_for)
        return [step.task.submit(step.template, values, upstream, item=item, wait_for=wait_for) for item in items]

    def _items(self, step: _Step, values: dict[str, Any]) -> tuple[list[Any] | None, str | None]:
        """The items of a ``map:``; ``(None, None)`` when an upstream it needs did not complete."""
        if isinstance(step.map, list):
            return step.map, None
        results: dict[str, Any] = {}
        for name in step.map_upstream:
            future = self.futures[name]
            if isinstance(future, list):
                states = [f.final_state() for f in future]
                if not all(s.is_completed() for s in states):
                    return None, None
                results[name] = [s.result() for s in states]
            else:
                state = future.final_state()
                if not state.is_completed():
                    return None, None
                results[name] = state.result()
        namespace = {**values, "tasks": {k: {"result": v} for k, v in results.items()}}
        expression = whole_expression(step.map) or ""
        try:
            items = evaluate(expression, namespace)
        except ExpressionError as exc:
            return None, f"'map:' of task '{step.key}': {exc}"
        if isinstance(items, (tuple, range)):
            items = list(items)
        if not isinstance(items, list):
            return None, f"'map:' of task '{step.key}' gave {type(items).__name__}, not a list: '${{{{ {expression} }}}}'"
        return items, None


def _done(future: Any) -> bool:
    return all(f.done() for f in future) if isinstance(future, list) else future.done()


def _wait(future: Any) -> None:
    for one in future if isinstance(future, list) else [future]:
        one.wait()


def _result(future: Any) -> Any:
    if isinstance(future, list):
        return [f.result() for f in future]
    return future.result()


def compile_pipeline(pipeline: Pipeline | str | Path, *, refresh: bool | Collection[str] = False) -> Flow:
    """Build the flow that runs a pipeline.

    Args:
        pipeline: a loaded pipeline, or the path of its YAML file (loaded
            with :func:`~.loader.load_pipeline`).
        refresh: ``True`` to run every task again (its sub-pipelines' too)
            instead of taking results from the cache, or the keys of the
            tasks to run again, with everything downstream of them (as
            Prefect's ``refresh_cache=True``); fresh results are stored for
            the next run.

    Returns:
        A :class:`partita.Flow` named after the pipeline; calling it with the
        pipeline's parameters returns ``{task key: result}`` (a Python task's
        return value, a notebook task's executed-notebook path, a shell
        task's stripped stdout or its ``outputs:`` paths, a pipeline task's
        results, a list of these for a ``map:`` task, ``None`` for a skipped
        task), or raises the exception of the first failed task (in
        topological order).

    Raises:
        partita.exceptions.ValidationError, partita.exceptions.InvalidTarget:
            when given a path that does not load.
        partita.exceptions.InvalidTarget: ``refresh`` names a task the
            pipeline does not have.
    """
    if not isinstance(pipeline, Pipeline):
        pipeline = load_pipeline(pipeline)
    if refresh is not True:
        refresh = frozenset(refresh or ())
        unknown = sorted(refresh - set(pipeline.spec.tasks))
        if unknown:
            raise InvalidTarget(
                f"{pipeline.path.name}: cannot refresh unknown task(s) {', '.join(unknown)}; "
                f"the tasks are {', '.join(pipeline.spec.tasks)}"
            )
        refresh = _with_downstream(refresh, pipeline.dependencies)
    with gc_paused():
        plan = [_step(key, pipeline.spec.tasks[key], pipeline, refresh) for key in pipeline.order]
    loaded = pipeline

    def run_pipeline(**values: Any) -> dict[str, Any]:
        run = _Run(loaded, values)
        run.submit_all(plan)
        for future in run.futures.values():
            _wait(future)
        return {step.key: _result(run.futures[step.key]) for step in plan}

    run_pipeline.__name__ = run_pipeline.__qualname__ = re.sub(r"\W", "_", pipeline.name) or "pipeline"
    run_pipeline.__doc__ = pipeline.spec.description or f"Pipeline {pipeline.name} ({pipeline.path.name})."
    run_pipeline.__signature__ = _signature(pipeline.spec)  # type: ignore[attr-defined]
    return Flow(run_pipeline, name=pipeline.name, description=pipeline.spec.description)
