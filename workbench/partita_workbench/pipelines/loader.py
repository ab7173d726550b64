from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from partita.exceptions import InvalidTarget, ValidationError

from partita_workbench.pipelines.checks import task_expressions
from partita_workbench.pipelines.expressions import Reference, analyze, find_expressions
from partita_workbench.pipelines.graph import topological_order
from partita_workbench.pipelines.spec import PipelineSpec, TaskSpec
from partita_workbench.pipelines.validate import Problem, format_problems, position_problems, validate_document
from partita_workbench.pipelines.yamlio import YamlSyntaxError, gc_paused, load_plain, parse_yaml

__all__ = ["Pipeline", "load_pipeline", "task_dependencies", "task_references", "referenced_names", "pipeline_problems"]


@dataclass(frozen=True)
class Pipeline:
    """A validated pipeline, ready to compile.

    Attributes:
        spec: the validated models.
        path: absolute path of the YAML file.
        text: the file's text as read.
        dependencies: ``{task: tasks it waits for}`` from ``needs:`` and
            ``${{ tasks.NAME.result }}`` references.
        order: task keys in a topological order (ties in file order).
        references: ``{task: what its expressions reference}``, see
            :func:`task_references`.
    """

    spec: PipelineSpec
    path: Path
    text: str
    dependencies: dict[str, frozenset[str]]
    order: tuple[str, ...]
    references: dict[str, tuple[Reference, ...]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The pipeline's ``name:``, which names the compiled flow."""
        return self.spec.name

    @property
    def folder(self) -> Path:
        """The YAML file's folder, against which relative paths resolve."""
        return self.path.parent

    @functools.cached_property
    def document(self) -> Any:
        """The ruamel round-trip document of :attr:`text` (comments, order and positions kept), parsed on first use."""
        return parse_yaml(self.text)


def _task_data(task: TaskSpec) -> dict[str, Any]:
    data: dict[str, Any] = {"with": task.with_, "parameters": task.parameters, "outputs": task.outputs, "map": task.map}
    if task.shell is not None:
        data["shell"] = task.shell
    if isinstance(task.if_, str):
        data["if"] = task.if_
    return data


def task_references(task: TaskSpec) -> list[Reference]:
    """Distinct references of a task's expressions (see :func:`.checks.task_expressions`), in first-use order."""
    found: dict[Reference, None] = {}
    for _, text in task_expressions(_task_data(task)):
        for expression in find_expressions(text):
            for ref in analyze(expression).references:
                found.setdefault(ref)
    return list(found)


def referenced_names(task: TaskSpec, scope: str) -> list[str]:
    """Names a task's expressions reference in one scope (``"params"``, ``"tasks"``, ``"env"``, ``"run"``)."""
    return [ref.name for ref in task_references(task) if ref.scope == scope]


def task_dependencies(
    spec: PipelineSpec, references: dict[str, tuple[Reference, ...]] | None = None
) -> dict[str, frozenset[str]]:
    """``{task: tasks it depends on}`` from ``needs:`` and task references (computed unless given)."""
    if references is None:
        references = {key: tuple(task_references(task)) for key, task in spec.tasks.items()}
    return {
        key: frozenset(task.needs) | frozenset(ref.name for ref in references[key] if ref.scope == "tasks")
        for key, task in spec.tasks.items()
    }


def pipeline_problems(path: str | Path) -> list[str]:
    """Every problem of a pipeline file, as ``path:line:col: message`` lines (empty when valid).

    A Ploomber ``pipeline.yaml`` is checked as one
    (:func:`partita_workbench.pipelines.ploomber.ploomber_problems`).

    Raises:
        partita.exceptions.InvalidTarget: the file does not exist or cannot be read.
    """
    from partita_workbench.pipelines.ploomber import is_ploomber_file, ploomber_problems

    if is_ploomber_file(path):
        return ploomber_problems(path)
    try:
        load_pipeline(path)
    except ValidationError as exc:
        return exc.problems
    return []


def load_pipeline(path: str | Path, *, _stack: tuple[Path, ...] = ()) -> Pipeline:
    """Read and validate a pipeline YAML file.

    Importing ``module:function`` targets happens here (with the YAML's
    folder first on ``sys.path``), so import errors are reported as
    validation problems; ``pipeline:`` tasks' files are loaded and validated
    too.

    Args:
        path: the YAML file.

    Returns:
        The validated :class:`Pipeline`.

    Raises:
        partita.exceptions.InvalidTarget: the file does not exist or cannot be read.
        partita.exceptions.ValidationError: every problem found, one
            ``path:line:col: message`` line each (``path`` as given).
    """
    with gc_paused():
        return _load(Path(path), _stack)


def _load(shown: Path, _stack: tuple[Path, ...]) -> Pipeline:
    absolute = shown.expanduser().resolve()
    if not absolute.is_file():
        raise InvalidTarget(f"pipeline file '{shown}' not found")
    try:
        text = absolute.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidTarget(f"cannot read pipeline file '{shown}': {exc}") from exc
    try:
        document = load_plain(text)
    except YamlSyntaxError as exc:
        raise ValidationError(format_problems(shown, [(exc.position, f"invalid YAML: {exc.problem}")])) from None
    spec, problems = validate_document(document, absolute.parent, stack=(*_stack, absolute))
    if spec is None:
        raise ValidationError(format_problems(shown, _positioned(text, problems)))
    references = {key: tuple(task_references(task)) for key, task in spec.tasks.items()}
    dependencies = task_dependencies(spec, references)
    return Pipeline(
        spec=spec,
        path=absolute,
        text=text,
        dependencies=dependencies,
        order=tuple(topological_order(dependencies)),
        references=references,
    )


def _positioned(text: str, problems: list[Problem]) -> list[tuple[tuple[int, int], str]]:
    return position_problems(parse_yaml(text), problems)
