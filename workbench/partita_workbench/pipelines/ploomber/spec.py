"""Reading and checking a Ploomber ``pipeline.yaml`` (its Spec API), with positions.

What is understood, as Ploomber's Spec API documents it:

* the document is ``{meta:, executor:, tasks: [...]}`` or just the list of tasks;
* ``meta.extract_upstream`` (default true): dependencies come from the
  ``upstream`` variable of each source's ``parameters`` cell; when false, from
  the task's ``upstream:`` key (a name or a list);
* ``meta.extract_product`` (default false): when true, a task without
  ``product:`` takes the ``product`` literal of its parameters cell;
* ``meta.product_default_class``: ``File`` for notebook and script tasks (the
  only product class supported);
* ``meta.product_relative_to_source``: product paths relative to the source's
  folder instead of the ``pipeline.yaml`` folder;
* ``meta.jupyter_hot_reload`` / ``meta.jupyter_functions_as_notebooks``:
  Jupyter-only settings, accepted and without effect on runs;
* per task: ``source`` (``.py`` script, ``.ipynb`` notebook, or a dotted path
  to a function: :mod:`.functions`), ``product``
  (a path or ``{key: path}``; a notebook task's dict needs ``nb``, the executed
  notebook), ``name`` (default: the source's stem), ``params`` (with the
  special ``resources_`` files whose *contents* count for re-runs),
  ``upstream``, ``grid``, ``class`` (``NotebookRunner`` or ``ScriptRunner``),
  ``product_class`` (``File``), ``kernelspec_name``,
  ``nbconvert_exporter_name``, ``nbconvert_export_kwargs``, ``local_execution``;
* ``grid``: one task per combination of the listed values (a mapping, or a
  list of mappings for several sets), named ``<name><index>`` and writing
  ``<stem>-<index><suffix>`` — or, when ``name`` / ``product`` contain
  ``[[key]]`` placeholders, with the values put in their place;
* an ``upstream`` entry may be a wildcard (``train-*``) matching several tasks;
* ``{{key}}`` placeholders take their values from an ``env.yaml`` beside the
  pipeline, plus ``{{here}}`` (the pipeline's folder), ``{{cwd}}`` and
  ``{{user}}``.

Anything else Ploomber knows (SQL, shell and R tasks, clients, hooks, serializers, ``source_loader``, ``import_tasks_from``...) is
reported as unsupported, naming the key and its position. The key tables are
in :mod:`.keys`; placeholders and grids in :mod:`.templates`.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from partita.exceptions import InvalidTarget, ValidationError

from partita_workbench.pipelines.graph import find_cycles, topological_order
from partita_workbench.pipelines.ploomber.detect import is_ploomber_file, is_ploomber_spec
from partita_workbench.pipelines.ploomber.functions import FunctionSource, read_function
from partita_workbench.pipelines.ploomber.keys import (
    GRID_PLACEHOLDER,
    META_KEYS,
    META_UNSUPPORTED,
    NB_SUFFIXES,
    RUNNERS,
    TASK_KEYS,
    TASK_UNSUPPORTED,
    TOP_KEYS,
    TOP_UNSUPPORTED,
)
from partita_workbench.pipelines.ploomber.names import SOURCE_SUFFIXES, default_task_name
from partita_workbench.pipelines.ploomber.sources import (
    NOTEBOOK_SUFFIXES,
    SCRIPT_SUFFIXES,
    SourceProblem,
    TaskSource,
    read_source,
)
from partita_workbench.pipelines.ploomber.templates import builtin_values, fill, grid_points, read_env, render, suffixed
from partita_workbench.pipelines.suggest import did_you_mean
from partita_workbench.pipelines.yamlio import YamlSyntaxError, locate, read_yaml, to_plain

__all__ = ["PloomberTask", "PloomberPipeline", "is_ploomber_spec", "is_ploomber_file", "load_ploomber", "ploomber_problems"]

Problem = tuple[Path, tuple[int, int], str]


@dataclass(frozen=True)
class PloomberTask:
    """One task of a Ploomber pipeline, resolved.

    Attributes:
        name: the task name (the task run's name).
        runner: ``"NotebookRunner"`` (executed with papermill, writes the
            executed notebook to ``product["nb"]``), ``"ScriptRunner"``
            (code cells run by ``python``, no notebook written) or
            ``"PythonCallable"`` (a function called with the values).
        source: the parsed source file, or the function.
        product: absolute path, or ``{key: absolute path}``.
        params: values injected besides ``product`` and ``upstream``.
        resources: ``{key: absolute path}`` of ``params.resources_`` files.
        upstream: names of the tasks it depends on, in declaration order.
        upstream_groups: wildcard entries of ``upstream`` → the names they matched.
        kernel: kernel name override (``kernelspec_name``).
        exporter: nbconvert exporter name for the executed notebook, or
            ``None`` to use the ``nb`` product's extension.
        export_kwargs: ``nbconvert_export_kwargs``.
        local_execution: run in the source's folder instead of the pipeline's.
        position: 1-based ``(line, column)`` of the task in ``pipeline.yaml``.
        upstream_from: ``"source"`` (the parameters cell, meta.extract_upstream)
            or ``"yaml"`` (the task's ``upstream:`` key).
    """

    name: str
    runner: str
    source: TaskSource | FunctionSource
    product: str | dict[str, str]
    params: dict[str, Any]
    resources: dict[str, str]
    upstream: tuple[str, ...]
    upstream_groups: dict[str, tuple[str, ...]]
    kernel: str | None
    exporter: str | None
    export_kwargs: dict[str, Any]
    local_execution: bool
    position: tuple[int, int]
    upstream_from: str = "source"

    @property
    def notebook_product(self) -> str | None:
        """Path of the executed notebook (``NotebookRunner`` only)."""
        if self.runner != "NotebookRunner":
            return None
        return self.product if isinstance(self.product, str) else self.product["nb"]

    def product_paths(self) -> list[str]:
        """Every product path."""
        return [self.product] if isinstance(self.product, str) else list(self.product.values())


@dataclass(frozen=True)
class PloomberPipeline:
    """A checked Ploomber pipeline.

    Attributes:
        path: absolute path of ``pipeline.yaml``.
        name: the flow's name: the pipeline's folder name.
        tasks: tasks by name, in a topological order (ties in file order).
        executor: ``"serial"`` (one task at a time, Ploomber's default) or ``"parallel"``.
        env: every placeholder value used (built-ins and ``env.yaml``).
        parameters: the ``env.yaml`` values (after overrides): the flow's parameters.
    """

    path: Path
    name: str
    tasks: dict[str, PloomberTask]
    executor: str = "serial"
    env: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.path.parent


def _key(tree: Any, path: tuple[Any, ...]) -> tuple[int, int]:
    return locate(tree, path, key=True)


def _value(tree: Any, path: tuple[Any, ...]) -> tuple[int, int]:
    return locate(tree, path)


class _Checker:
    """Collects every problem of one file (never stops at the first)."""

    def __init__(self, path: Path, shown: Path, tree: Any) -> None:
        self.path = path
        self.shown = shown
        self.tree = tree
        self.problems: list[Problem] = []
        self.names: set[str] = set()  # every task name declared, also of tasks with problems
        self.overrides: dict[str, Any] = {}
        self.env_broken = False
        self.env_file = path.parent / "env.yaml"
        self.sources: dict[Path, TaskSource | None] = {}

    def add(self, position: tuple[int, int], message: str, file: Path | None = None) -> None:
        self.problems.append((file or self.shown, position, message))

    def keys(self, mapping: CommentedMap, where: tuple[Any, ...], allowed: tuple[str, ...], unsupported: dict[str, str], what: str) -> None:
        for key in mapping:
            if key in allowed:
                continue
            if key in unsupported:
                self.add(
                    _key(self.tree, (*where, key)),
                    f"unsupported Ploomber key '{key}'{what}: Partita does not support {unsupported[key]}; remove it",
                )
            else:
                hint = did_you_mean(str(key), allowed)
                self.add(_key(self.tree, (*where, key)), f"unknown key '{key}'{what}{hint}")

    def function(self, dotted: str, folder: Path, position: tuple[int, int], task: str) -> FunctionSource | None:
        key = Path(f"<function {dotted}>")
        if key not in self.sources:
            try:
                self.sources[key] = read_function(dotted, folder)  # type: ignore[assignment]
            except SourceProblem as exc:
                self.sources[key] = None
                self.add(position if exc.path.name == "pipeline.yaml" else exc.position, f"task '{task}': {exc.message}", None if exc.path.name == "pipeline.yaml" else _display(exc.path))
        return self.sources[key]  # type: ignore[return-value]

    def source(self, path: Path, position: tuple[int, int], task: str) -> TaskSource | None:
        if path not in self.sources:
            try:
                self.sources[path] = read_source(path)
            except SourceProblem as exc:
                self.sources[path] = None
                cell = f" (cell {exc.cell})" if exc.cell is not None and path.suffix in NOTEBOOK_SUFFIXES else ""
                self.add(exc.position, f"task '{task}': {exc.message}{cell}", _display(path))
        return self.sources[path]


def _display(path: Path) -> Path:
    """A source's path as shown in problems: relative to the working directory when possible."""
    try:
        return Path(os.path.relpath(path))
    except ValueError:
        return path


def ploomber_problems(path: str | Path) -> list[str]:
    """Every problem of a Ploomber pipeline, one ``path:line:col: message`` line each (empty when valid)."""
    try:
        load_ploomber(path)
    except ValidationError as exc:
        return list(exc.problems)
    return []


def _env_file(checker: _Checker, folder: Path) -> dict[str, Any]:
    try:
        return read_env(folder)
    except YamlSyntaxError as exc:
        checker.add(exc.position, f"invalid YAML: {exc.problem}", checker.env_file)
    except ValueError as exc:
        checker.add((1, 1), str(exc), checker.env_file)
    checker.env_broken = True  # its placeholders are not reported as unknown then
    return {}


def load_ploomber(path: str | Path, *, env: dict[str, Any] | None = None) -> PloomberPipeline:
    """Read and check a Ploomber ``pipeline.yaml``, with its task sources.

    Args:
        path: the YAML file.
        env: values replacing those of ``env.yaml`` (as ``ploomber build
            --env--KEY VALUE``); each must be a key of ``env.yaml``.

    Returns:
        The :class:`PloomberPipeline`.

    Raises:
        partita.exceptions.InvalidTarget: the file does not exist or cannot be read.
        partita.exceptions.ValidationError: every problem found, as
            ``path:line:col: message`` (problems inside a script name the
            script and its line).
    """
    shown = Path(path)
    absolute = shown.expanduser().resolve()
    if not absolute.is_file():
        raise InvalidTarget(f"pipeline file '{shown}' not found")
    try:
        tree = read_yaml(absolute)
    except YamlSyntaxError as exc:
        raise ValidationError([f"{shown}:{exc.position[0]}:{exc.position[1]}: invalid YAML: {exc.problem}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidTarget(f"cannot read pipeline file '{shown}': {exc}") from exc
    checker = _Checker(absolute, shown, tree)
    checker.overrides = dict(env or {})
    checker.env_file = shown.parent / "env.yaml"
    pipeline = _check(checker, absolute)
    if checker.problems:
        ordered = sorted(checker.problems, key=lambda p: (str(p[0]) != str(shown), str(p[0]), p[1]))
        raise ValidationError([f"{file}:{line}:{col}: {message}" for file, (line, col), message in ordered])
    assert pipeline is not None
    return pipeline


def _check(checker: _Checker, path: Path) -> PloomberPipeline | None:
    tree = checker.tree
    folder = path.parent
    if isinstance(tree, CommentedSeq):
        tasks_node, prefix, meta, executor = tree, (), CommentedMap(), "serial"
    elif isinstance(tree, CommentedMap):
        checker.keys(tree, (), TOP_KEYS, TOP_UNSUPPORTED, "")
        tasks_node = tree.get("tasks")
        prefix = ("tasks",)
        meta = tree.get("meta") if isinstance(tree.get("meta"), CommentedMap) else CommentedMap()
        if "meta" in tree and not isinstance(tree.get("meta"), CommentedMap):
            checker.add(_value(tree, ("meta",)), "'meta:' must be a mapping")
        executor = tree.get("executor", "serial")
        if executor not in ("serial", "parallel"):
            checker.add(_value(tree, ("executor",)), f"unsupported executor {to_plain(executor)!r}: use 'serial' or 'parallel'")
            executor = "serial"
        if not isinstance(tasks_node, CommentedSeq):
            checker.add(_value(tree, ("tasks",)) if "tasks" in tree else (1, 1), "a Ploomber pipeline needs a 'tasks:' list")
            return None
    else:
        checker.add((1, 1), "a Ploomber pipeline must be a list of tasks or a mapping with 'tasks:'")
        return None

    checker.keys(meta, ("meta",), META_KEYS, META_UNSUPPORTED, " in 'meta'")
    options: dict[str, bool] = {}
    for flag, default in (("extract_upstream", True), ("extract_product", False), ("product_relative_to_source", False)):
        value = meta.get(flag, default)
        if not isinstance(value, bool):
            checker.add(_value(tree, ("meta", flag)), f"'meta.{flag}' must be true or false")
            value = default
        options[flag] = value
    classes = meta.get("product_default_class")
    if classes is not None:
        if not isinstance(classes, CommentedMap):
            checker.add(_value(tree, ("meta", "product_default_class")), "'meta.product_default_class' must map task classes to product classes")
        else:
            for runner in RUNNERS:
                if runner in classes and classes[runner] != "File":
                    checker.add(
                        _value(tree, ("meta", "product_default_class", runner)),
                        f"unsupported product class '{classes[runner]}' for {runner}: Partita writes File products only",
                    )

    parameters = _env_file(checker, folder)
    unknown = sorted(set(checker.overrides) - set(parameters))
    if unknown:
        checker.add((1, 1), f"unknown parameter(s) {', '.join(unknown)}: a Ploomber pipeline's parameters are the keys of its env.yaml", checker.env_file)
    parameters.update({k: v for k, v in checker.overrides.items() if k in parameters})
    env = {**builtin_values(folder), **parameters}
    declared: list[dict[str, Any]] = []
    for index, item in enumerate(tasks_node):
        declared.extend(_expand(checker, (*prefix, index), item, env, options, folder))

    names = [d["name"] for d in declared]
    broken = checker.names - set(names)  # declared but not checked: no "unknown upstream" for them
    seen: dict[str, tuple[int, int]] = {}
    for entry in declared:
        if entry["name"] in seen:
            checker.add(entry["name_position"], f"duplicate task name '{entry['name']}' (first at line {seen[entry['name']][0]}); give each task its own 'name:'")
        else:
            seen[entry["name"]] = entry["position"]

    tasks: dict[str, PloomberTask] = {}
    dependencies: dict[str, set[str]] = {}
    for entry in declared:
        upstream, groups = _resolve_upstream(checker, entry, names, broken)
        dependencies[entry["name"]] = set(upstream)
        if entry["source"] is None:
            continue
        tasks[entry["name"]] = PloomberTask(
            name=entry["name"],
            runner=entry["runner"],
            source=entry["source"],
            product=entry["product"],
            params=entry["params"],
            resources=entry["resources"],
            upstream=upstream,
            upstream_groups=groups,
            kernel=entry["kernel"],
            exporter=entry["exporter"],
            export_kwargs=entry["export_kwargs"],
            local_execution=entry["local_execution"],
            position=entry["position"],
            upstream_from=entry["upstream_from"],
        )
    for cycle in find_cycles(dependencies):
        position = next(e["position"] for e in declared if e["name"] == cycle[0])
        checker.add(position, f"dependency cycle: {' -> '.join(cycle)} (each task uses the next one's products)")
    if checker.problems:
        return None
    order = topological_order(dependencies)
    return PloomberPipeline(
        path=path,
        name=folder.name or "pipeline",
        tasks={name: tasks[name] for name in order},
        executor=str(executor),
        env=env,
        parameters=parameters,
    )


def _expand(
    checker: _Checker, where: tuple[Any, ...], item: Any, env: dict[str, Any], options: dict[str, bool], folder: Path
) -> Iterator[dict[str, Any]]:
    """The task declaration at ``where``, checked; one entry per grid point."""
    tree = checker.tree
    if not isinstance(item, CommentedMap):
        checker.add(_value(tree, where), "a task must be a mapping with at least 'source:'")
        return
    raw_name = item.get("name") if isinstance(item.get("name"), str) else None
    raw_source = item.get("source") if isinstance(item.get("source"), str) else None
    shown = raw_name or (default_task_name(raw_source) if raw_source else f"#{where[-1] + 1}")
    if raw_name or raw_source:
        checker.names.add(raw_name or default_task_name(raw_source))
    checker.keys(item, where, TASK_KEYS, TASK_UNSUPPORTED, f" in task '{shown}'")
    position = _value(tree, where)
    missing: list[str] = []
    data = render(to_plain(item), env, missing)
    for name in dict.fromkeys(missing) if not checker.env_broken else ():
        checker.add(position, f"unknown placeholder '{{{{{name}}}}}' in task '{shown}': define it in env.yaml beside the pipeline")

    source_text = data.get("source")
    if not isinstance(source_text, str) or not source_text:
        checker.add(_value(tree, (*where, "source")) if "source" in item else position, "a task needs 'source:' (a script or notebook path)")
        return
    name = data.get("name", default_task_name(source_text))
    label = name if isinstance(name, str) else source_text
    source_at = _value(tree, (*where, "source"))
    suffix = Path(source_text).suffix
    is_function = suffix not in SOURCE_SUFFIXES
    runner = data.get("class") or ("PythonCallable" if is_function else "NotebookRunner")
    if runner not in RUNNERS:
        checker.add(
            _value(tree, (*where, "class")),
            f"unsupported task class '{runner}' in task '{label}': Partita runs {', '.join(RUNNERS)} tasks",
        )
        return
    if is_function != (runner == "PythonCallable"):
        checker.add(
            _value(tree, (*where, "class")),
            f"task '{label}' of class {runner} needs "
            + ("a dotted path to a function as 'source:'" if runner == "PythonCallable" else "a .py script or a .ipynb notebook as 'source:'"),
        )
        return
    if not is_function and suffix not in SCRIPT_SUFFIXES + NOTEBOOK_SUFFIXES:
        kind = {".sql": "SQL tasks", ".sh": "shell script tasks"}.get(suffix, "R scripts and notebooks")
        checker.add(source_at, f"unsupported source '{source_text}' in task '{label}': Partita does not run {kind}; use a .py script, a .ipynb notebook or a function")
        return
    source_path = (folder / source_text).resolve()
    if not is_function and not source_path.is_file():
        checker.add(source_at, f"source file '{source_text}' of task '{label}' not found (looked for {source_path})")
        return
    if not isinstance(name, str) or not name:
        checker.add(_value(tree, (*where, "name")), "'name:' must be a non-empty string")
        return
    source = checker.function(source_text, folder, source_at, label) if is_function else checker.source(source_path, source_at, label)
    if is_function:
        source_path = source.path if source is not None else folder
        for key in ("kernelspec_name", "nbconvert_exporter_name", "nbconvert_export_kwargs", "local_execution"):
            if key in data:
                checker.add(_key(tree, (*where, key)), f"'{key}' is for notebook and script tasks, not for function task '{label}'")

    for key, expected in (("kernelspec_name", str), ("nbconvert_exporter_name", str), ("nbconvert_export_kwargs", dict), ("local_execution", bool), ("params", dict)):
        if key in data and not isinstance(data[key], expected):
            checker.add(_value(tree, (*where, key)), f"'{key}' of task '{label}' must be a {_type_name(expected)}")
            return
    if data.get("product_class", "File") != "File":
        checker.add(_value(tree, (*where, "product_class")), f"unsupported product class '{data['product_class']}' in task '{label}': Partita writes File products only")
    params = dict(data.get("params") or {})
    for reserved in ("product", "upstream"):
        if reserved in params:
            checker.add(_key(tree, (*where, "params", reserved)), f"'params' of task '{label}' cannot set '{reserved}': it is injected from the task's declaration")
    resources = params.get("resources_", {})
    if not isinstance(resources, dict) or not all(isinstance(v, str) for v in resources.values()):
        checker.add(_value(tree, (*where, "params", "resources_")), f"'params.resources_' of task '{label}' must map names to file paths")
        resources = {}
    resolved_resources = {}
    for key, value in resources.items():
        file = (folder / value).resolve()
        if not file.is_file():
            checker.add(_value(tree, (*where, "params", "resources_", key)), f"resource file '{value}' of task '{label}' not found (looked for {file})")
        resolved_resources[key] = str(file)

    product = data.get("product")
    if product is None and options["extract_product"] and source is not None and not is_function:
        product = source.product
    if product is None:
        hint = "" if options["extract_product"] and not is_function else " (meta.extract_product is false)" if not is_function else ""
        checker.add(position, f"task '{label}' needs 'product:'{hint}")
        return
    if not (isinstance(product, str) or (isinstance(product, dict) and product and all(isinstance(v, str) for v in product.values()))):
        checker.add(_value(tree, (*where, "product")), f"'product' of task '{label}' must be a path or a mapping of names to paths")
        return
    if runner == "NotebookRunner" and isinstance(product, dict) and "nb" not in product:
        checker.add(
            _value(tree, (*where, "product")),
            f"'product' of notebook task '{label}' needs an 'nb' key: the path of the executed notebook",
        )
        return

    nb = product if isinstance(product, str) else product.get("nb")
    if runner == "NotebookRunner" and not data.get("nbconvert_exporter_name") and Path(nb).suffix.lower() not in NB_SUFFIXES:
        checker.add(
            _value(tree, (*where, "product")),
            f"the executed notebook of task '{label}' is written to '{nb}', and nbconvert has no exporter for "
            f"'{Path(nb).suffix or 'no extension'}': use {', '.join(NB_SUFFIXES)} or set nbconvert_exporter_name "
            "(other outputs go under a 'product:' mapping next to 'nb:')",
        )
        return

    extract = options["extract_upstream"]
    if "upstream" in data and extract:
        checker.add(
            _key(tree, (*where, "upstream")),
            f"task '{label}' declares 'upstream:' but meta.extract_upstream is true (read from the source); "
            "set meta.extract_upstream: false or remove it",
        )
    if extract:
        declared_upstream = list(source.upstream or ()) if source is not None else []
        upstream_where = (_display(source.path), source.upstream_position) if source is not None else None
    else:
        raw = data.get("upstream", [])
        declared_upstream = [raw] if isinstance(raw, str) else raw
        upstream_where = (checker.shown, _value(tree, (*where, "upstream")) if "upstream" in item else position)
        if not isinstance(declared_upstream, list) or not all(isinstance(u, str) for u in declared_upstream):
            checker.add(_value(tree, (*where, "upstream")), f"'upstream' of task '{label}' must be a task name or a list of them")
            declared_upstream = []

    base = dict(
        runner=runner,
        source=source,
        params=params,
        resources=resolved_resources,
        kernel=data.get("kernelspec_name"),
        exporter=data.get("nbconvert_exporter_name"),
        export_kwargs=dict(data.get("nbconvert_export_kwargs") or {}),
        local_execution=bool(data.get("local_execution", False)),
        position=position,
        name_position=_value(tree, (*where, "name")) if "name" in item else position,
        declared_upstream=declared_upstream,
        upstream_where=upstream_where,
        upstream_from="source" if extract else "yaml",
        upstream_item=(lambda i: _value(tree, (*where, "upstream", i))) if isinstance(item.get("upstream"), CommentedSeq) else None,
    )
    relative_to = source_path.parent if options["product_relative_to_source"] else folder

    def resolve(paths: Any) -> Any:
        if isinstance(paths, dict):
            return {k: str((relative_to / v).resolve()) for k, v in paths.items()}
        return str((relative_to / paths).resolve())

    if "grid" not in data:
        yield {**base, "name": name, "product": resolve(product)}
        return
    points = grid_points(data["grid"])
    if points is None:
        checker.add(_value(tree, (*where, "grid")), f"'grid' of task '{label}' must map parameter names to lists of values (or be a list of such mappings)")
        return
    if "name" not in item:
        checker.add(position, "task with 'grid:' needs 'name:' (tasks are named '<name><index>')")
        return
    for index, point in enumerate(points):
        grid_name = fill(name, point) if GRID_PLACEHOLDER.search(name) else f"{name}{index}"

        def per_point(path: str) -> str:
            return fill(path, point) if GRID_PLACEHOLDER.search(path) else suffixed(path, index)

        point_product = {k: per_point(v) for k, v in product.items()} if isinstance(product, dict) else per_point(product)
        yield {**base, "name": grid_name, "params": {**params, **point}, "product": resolve(point_product)}


def _type_name(expected: type) -> str:
    return {str: "string", dict: "mapping", bool: "boolean (true or false)"}[expected]


def _resolve_upstream(
    checker: _Checker, entry: dict[str, Any], names: list[str], broken: set[str]
) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    upstream: dict[str, None] = {}
    groups: dict[str, tuple[str, ...]] = {}
    for index, declared in enumerate(entry["declared_upstream"]):
        file, position = entry["upstream_where"]
        if entry["upstream_from"] == "yaml" and entry["upstream_item"] is not None:
            position = entry["upstream_item"](index)
        if any(ch in declared for ch in "*?["):
            matched = tuple(n for n in names if fnmatch.fnmatchcase(n, declared) and n != entry["name"])
            if not matched and not any(fnmatch.fnmatchcase(n, declared) for n in broken):
                checker.add(position, f"upstream pattern '{declared}' of task '{entry['name']}' matches no task", file)
            groups[declared] = matched
            upstream.update(dict.fromkeys(matched))
        elif declared in names:
            upstream[declared] = None
        elif declared not in broken:
            hint = did_you_mean(declared, names)
            checker.add(position, f"task '{entry['name']}' uses unknown upstream task '{declared}'{hint}", file)
    return tuple(upstream), groups
