"""Loading a ``pipeline.yaml`` into a validated :class:`Pipeline`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from partita.exceptions import InvalidTarget, ValidationError

from partita_workbench.pipelines.graph import topological_order
from partita_workbench.pipelines.references import iter_strings, parse_references
from partita_workbench.pipelines.spec import PipelineSpec, TaskSpec
from partita_workbench.pipelines.validate import format_problems, validate_document
from partita_workbench.pipelines.yamlio import YamlSyntaxError, read_yaml

__all__ = ["Pipeline", "load_pipeline", "task_dependencies", "referenced_names"]


@dataclass(frozen=True)
class Pipeline:
    """A validated pipeline, ready to compile.

    Attributes:
        spec: the validated models.
        path: absolute path of the YAML file.
        document: the ruamel round-trip document (keeps comments and order,
            for editing the file later).
        dependencies: ``{task: tasks it waits for}`` from ``needs:`` and
            ``${{ tasks.NAME.result }}`` references.
        order: task keys in a topological order (ties in file order).
    """

    spec: PipelineSpec
    path: Path
    document: Any
    dependencies: dict[str, frozenset[str]]
    order: tuple[str, ...]

    @property
    def name(self) -> str:
        """The pipeline's ``name:``, which names the compiled flow."""
        return self.spec.name

    @property
    def folder(self) -> Path:
        """The YAML file's folder, against which relative paths resolve."""
        return self.path.parent


def referenced_names(task: TaskSpec, scope: str) -> list[str]:
    """Names referenced by a task's ``with:``/``parameters:``/``shell:`` values.

    Args:
        task: a validated task.
        scope: ``"params"`` or ``"tasks"``.

    Returns:
        Distinct names in first-use order.
    """
    texts = [text for _, text in iter_strings({"w": task.with_, "p": task.parameters})]
    if task.shell is not None:
        texts.append(task.shell)
    names: dict[str, None] = {}
    for text in texts:
        for ref in parse_references(text):
            if ref.scope == scope:
                names.setdefault(ref.name)
    return list(names)


def task_dependencies(spec: PipelineSpec) -> dict[str, frozenset[str]]:
    """``{task: tasks it depends on}`` from ``needs:`` and task references."""
    return {
        key: frozenset(task.needs) | frozenset(referenced_names(task, "tasks"))
        for key, task in spec.tasks.items()
    }


def load_pipeline(path: str | Path) -> Pipeline:
    """Read and validate a pipeline YAML file.

    Importing ``module:function`` targets happens here (with the YAML's
    folder first on ``sys.path``), so import errors are reported as
    validation problems.

    Args:
        path: the YAML file.

    Returns:
        The validated :class:`Pipeline`.

    Raises:
        partita.exceptions.InvalidTarget: the file does not exist or cannot be read.
        partita.exceptions.ValidationError: every problem found, one
            ``path:line:col: message`` line each (``path`` as given).
    """
    shown = Path(path)
    absolute = shown.expanduser().resolve()
    if not absolute.is_file():
        raise InvalidTarget(f"pipeline file '{shown}' not found")
    try:
        document = read_yaml(absolute)
    except YamlSyntaxError as exc:
        raise ValidationError(format_problems(shown, [(exc.position, f"invalid YAML: {exc.problem}")])) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidTarget(f"cannot read pipeline file '{shown}': {exc}") from exc
    spec, problems = validate_document(document, absolute.parent)
    if spec is None:
        raise ValidationError(format_problems(shown, problems))
    dependencies = task_dependencies(spec)
    return Pipeline(
        spec=spec,
        path=absolute,
        document=document,
        dependencies=dependencies,
        order=tuple(topological_order(dependencies)),
    )
