"""Pydantic models of ``pipeline.yaml`` (first cut).

A pipeline file looks like::

    name: quickstart
    description: optional text
    parameters:
      who: {type: string, default: world, description: who to greet}
    tasks:
      compose:
        python: tasks:compose_message        # module:function or file.py:function
        with: {who: "${{ params.who }}"}     # keyword arguments
      show:
        notebook: hello.ipynb                # papermill-parameterized notebook
        parameters: {msg: "${{ tasks.compose.result }}"}
        kernel: python3                      # optional kernel-name override
      list:
        shell: ls -l
        needs: [show]

Each task has exactly one kind (``python``, ``notebook`` or ``shell``); that
rule, references and file checks are enforced by
:mod:`partita_workbench.pipelines.validate`, which maps every problem back to a
``file:line:col`` position. These models only check shapes and types.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["PARAMETER_TYPES", "TASK_KINDS", "ParameterSpec", "TaskSpec", "PipelineSpec"]

ParameterType = Literal["string", "integer", "number", "boolean", "array", "object"]

PARAMETER_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list,
    "object": dict,
}
"""JSON Schema type names used in ``parameters:`` → the Python annotation of the flow parameter."""

TASK_KINDS: tuple[str, ...] = ("python", "notebook", "shell")
"""The keys that give a task its kind; a task has exactly one."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ParameterSpec(_Spec):
    """One pipeline parameter, which becomes a flow parameter.

    Attributes:
        type: JSON Schema type name; see :data:`PARAMETER_TYPES`.
        default: value used when the run does not give one; without a default
            the parameter is required.
        description: shown by ``partita run --help``-style listings.
    """

    type: ParameterType = "string"
    default: Any = None
    description: str | None = None

    @property
    def required(self) -> bool:
        """Whether a run must give this parameter (no ``default:`` key in the YAML)."""
        return "default" not in self.model_fields_set


class TaskSpec(_Spec):
    """One task of the pipeline.

    Attributes:
        python: ``"module:function"`` (module importable with the YAML's folder
            on ``sys.path``) or ``"file.py:function"`` (path relative to the
            YAML's folder); called with the ``with:`` keyword arguments.
        notebook: path of a ``.ipynb`` file relative to the YAML's folder, run
            with papermill; ``parameters:`` are injected after its
            ``parameters``-tagged cell.
        shell: a command run by the system shell in the YAML's folder (or
            ``cwd:``); references in it are inserted shell-quoted.
        with_: keyword arguments of a ``python`` task (YAML key ``with``).
        parameters: notebook parameters of a ``notebook`` task.
        kernel: kernel name overriding the notebook's kernelspec.
        cwd: working directory of a ``notebook`` or ``shell`` task, relative
            to the YAML's folder (default: the notebook's folder / the YAML's
            folder).
        needs: names of tasks that must complete first (beyond those implied
            by ``${{ tasks.NAME.result }}`` references).
        retries, retry_delay_seconds, timeout_seconds: as Prefect's
            ``task(retries=..., retry_delay_seconds=..., timeout_seconds=...)``.
        description: free text.
    """

    python: str | None = None
    notebook: str | None = None
    shell: str | None = None
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    parameters: dict[str, Any] = Field(default_factory=dict)
    kernel: str | None = None
    cwd: str | None = None
    needs: list[str] = Field(default_factory=list)
    retries: int = Field(default=0, ge=0)
    retry_delay_seconds: float = Field(default=0, ge=0)
    timeout_seconds: float | None = Field(default=None, gt=0)
    description: str | None = None

    @property
    def kind(self) -> str:
        """``"python"``, ``"notebook"`` or ``"shell"`` (valid specs have exactly one)."""
        for kind in TASK_KINDS:
            if getattr(self, kind) is not None:
                return kind
        raise ValueError("task has no kind")

    @property
    def target(self) -> str:
        """The value of the kind key: callable reference, notebook path or command."""
        return getattr(self, self.kind)


class PipelineSpec(_Spec):
    """A whole ``pipeline.yaml``.

    Attributes:
        name: the pipeline's name, used as the flow's name.
        description: free text.
        parameters: flow parameters by name (Python identifiers).
        tasks: tasks by key; the key is the task run's name and the ``NAME`` of
            ``${{ tasks.NAME.result }}``. Order in the file is kept.
    """

    name: str = Field(min_length=1)
    description: str | None = None
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    tasks: dict[str, TaskSpec] = Field(min_length=1)
