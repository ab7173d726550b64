"""Pydantic models of ``pipeline.yaml``: the pipeline spec.

A pipeline file looks like::

    name: quickstart
    description: optional text
    parameters:
      who: {type: string, default: world, description: who to greet}
      day: {type: date, default: 2024-05-01}
    defaults:                                 # options applied to every task
      retries: 1
    env: {LANG: C.UTF-8}                      # environment of shell tasks, ${{ env.X }}
    tasks:
      compose:
        python: tasks:compose_message         # module:function or file.py:function
        with: {who: "${{ params.who }}"}      # keyword arguments
      show:
        notebook: hello.ipynb                 # papermill-parameterized notebook
        parameters: {msg: "${{ tasks.compose.result }}"}
      each:
        python: tasks:shout
        map: ${{ tasks.compose.result | list }}   # one task run per item
        with: {text: "${{ item }}"}
      listing:
        shell: ls -l > listing.txt
        outputs: [listing.txt]                # result: the files' absolute paths
        if: ${{ params.who != 'nobody' }}     # COMPLETED/Skipped when false
        needs: [show]
      nested:
        pipeline: other/pipeline.yaml         # run as a subflow
        parameters: {day: "${{ params.day }}"}

Each task has exactly one kind (``python``, ``notebook``, ``shell`` or
``pipeline``); that rule, references and file checks are enforced by
:mod:`partita_workbench.pipelines.validate`, which maps every problem back to a
``file:line:col`` position. These models check shapes and types, and their
attribute docstrings are the descriptions of ``schemas/pipeline.schema.json``
(see :func:`pipeline_json_schema`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator

from partita_workbench.pipelines.suggest import did_you_mean

__all__ = [
    "PARAMETER_TYPES",
    "PARAMETER_JSON_SCHEMA",
    "TASK_KINDS",
    "CACHE_POLICY_NAMES",
    "ParameterSpec",
    "CacheSpec",
    "TaskOptions",
    "TaskSpec",
    "PipelineSpec",
    "parse_duration",
    "pipeline_json_schema",
]

ParameterType = Literal["string", "integer", "number", "boolean", "array", "object", "date", "datetime"]

PARAMETER_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list,
    "object": dict,
    "date": dt.date,
    "datetime": dt.datetime,
}
"""Parameter type names used in ``parameters:`` → the Python annotation of the flow parameter."""

PARAMETER_JSON_SCHEMA: dict[str, dict[str, str]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "array": {"type": "array"},
    "object": {"type": "object"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
}
"""Parameter type name → its JSON Schema (``date``/``datetime`` are strings with a format, RFC 3339)."""

TASK_KINDS: tuple[str, ...] = ("python", "notebook", "shell", "pipeline")
"""The keys that give a task its kind; a task has exactly one."""

CACHE_POLICY_NAMES: tuple[str, ...] = ("default", "none", "source", "inputs", "upstream", "parameters", "run_id")
"""Names accepted by ``cache: {policy: ...}``; see :class:`CacheSpec`."""

_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*")
_DURATION_UNITS = {None: 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: float | str) -> dt.timedelta:
    """A ``cache: expiration:`` value as a timedelta.

    Args:
        value: seconds (a number), or a string: a number with an optional
            unit ``s``, ``m``, ``h`` or ``d`` (``"90"``, ``"30m"``, ``"1.5h"``, ``"7d"``).

    Raises:
        ValueError: any other string, or a negative number.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return dt.timedelta(seconds=value)
    match = _DURATION.fullmatch(str(value))
    if match is None:
        raise ValueError(f"'{value}' is not a duration; write seconds (3600) or a number with s, m, h or d ('30m', '7d')")
    return dt.timedelta(seconds=float(match.group(1)) * _DURATION_UNITS[match.group(2)])


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, use_attribute_docstrings=True)


class ParameterSpec(_Spec):
    """One pipeline parameter, which becomes a flow parameter (``-p name=value`` on the command line)."""

    type: ParameterType = "string"
    """Type of the value: string, integer, number, boolean, array, object, date (YYYY-MM-DD) or datetime (ISO 8601)."""
    default: Any = None
    """Value used when a run does not give one; without a default the parameter is required."""
    description: str | None = None
    """What the parameter means; shown in listings and in the graph document."""

    @property
    def required(self) -> bool:
        """Whether a run must give this parameter (no ``default:`` key in the YAML)."""
        return "default" not in self.model_fields_set


def _env_text(value: Any) -> Any:
    """Environment values are text: ``true``/``false`` for booleans, ``str()`` for numbers."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, (str, int, float)) and not isinstance(value, bool) else value


def _seconds(value: Any) -> Any:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return value
    return parse_duration(value).total_seconds()


EnvValue = Annotated[str, BeforeValidator(_env_text), WithJsonSchema({"type": ["string", "number", "boolean"]})]
"""An environment variable's value: text, or a number or boolean written as text."""

Seconds = Annotated[
    float,
    BeforeValidator(_seconds),
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*[smhd]?\s*$"}]}),
]
"""A duration: seconds, or a number with a unit s, m, h or d (converted to seconds)."""


class CacheSpec(_Spec):
    """When a task's earlier result may be reused instead of running it again (as Prefect's cache policies)."""

    policy: Annotated[
        list[str],
        BeforeValidator(_as_list),
        WithJsonSchema({"anyOf": [
            {"enum": list(CACHE_POLICY_NAMES)},
            {"type": "array", "items": {"enum": list(CACHE_POLICY_NAMES)}},
        ]}),
    ] = Field(default_factory=lambda: ["default"])
    """What the cache key covers, one name or a list: 'default' (source + inputs + upstream), 'source' (the function source, notebook file or command), 'inputs' (the resolved arguments), 'upstream' (the cache keys of the tasks it waits for), 'parameters' (all pipeline parameters), 'run_id' (reuse within one run only), 'none' (never cache)."""
    expiration: Seconds | None = None
    """How long a cached result stays valid: seconds, or a number with s, m, h or d ('30m', '7d'); none means forever."""

    @field_validator("policy")
    @classmethod
    def _known_policies(cls, value: list[str]) -> list[str]:
        unknown = [n for n in value if n not in CACHE_POLICY_NAMES]
        if unknown:
            hint = did_you_mean(unknown[0], CACHE_POLICY_NAMES)
            raise ValueError(f"unknown cache policy '{unknown[0]}'; use {', '.join(CACHE_POLICY_NAMES)}{hint}")
        return value


class TaskOptions(_Spec):
    """Run options of a task; under ``defaults:`` they apply to every task (a task's own value wins)."""

    retries: int | None = Field(default=None, ge=0)
    """Extra attempts after a failure (as Prefect's task(retries=...)); default 0."""
    retry_delay_seconds: float | list[float] | None = None
    """Seconds to wait before each retry; a list gives one delay per retry, its last one repeating."""
    timeout_seconds: float | None = Field(default=None, gt=0)
    """Fail an attempt (state TimedOut) after this many seconds."""
    cache: CacheSpec | bool | None = None
    """Result caching: false turns it off, true or a mapping turns it on; default: on, with policy 'default'."""
    tags: list[str] = Field(default_factory=list)
    """Labels recorded on every run of the task (the tags of defaults: and of the task are combined)."""
    env: dict[str, EnvValue] = Field(default_factory=dict)
    """Environment variables for the task's process (shell tasks) and for ${{ env.NAME }}; over the pipeline's env:."""

    @field_validator("retry_delay_seconds")
    @classmethod
    def _non_negative(cls, value: float | list[float] | None) -> float | list[float] | None:
        delays = value if isinstance(value, list) else [value] if value is not None else []
        if any(d < 0 for d in delays):
            raise ValueError("a retry delay cannot be negative")
        return value


class TaskSpec(TaskOptions):
    """One task of the pipeline: exactly one of python, notebook, shell or pipeline, plus options."""

    python: str | None = None
    """A Python callable, 'module:function' (importable with the pipeline's folder on sys.path) or 'path/to/file.py:function'; called with the with: keyword arguments."""
    notebook: str | None = None
    """A .ipynb file relative to the pipeline's folder, run with papermill; parameters: are injected after its 'parameters'-tagged cell. Result: the executed notebook's path."""
    shell: str | None = None
    """A command run by /bin/sh in the pipeline's folder (or cwd:); expressions in it are inserted shell-quoted. Result: its standard output, or the outputs: paths."""
    pipeline: str | None = None
    """Another pipeline YAML file, relative to this one, run as a subflow with parameters:. Result: its tasks' results by task key."""
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    """Keyword arguments of a python task; values may hold ${{ ... }} expressions."""
    parameters: dict[str, Any] = Field(default_factory=dict)
    """Parameters of a notebook or pipeline task; values may hold ${{ ... }} expressions."""
    needs: list[str] = Field(default_factory=list)
    """Tasks that must complete first, beyond those implied by ${{ tasks.NAME.result }} expressions."""
    map: str | list[Any] | None = None
    """Fan out: a list, or an expression giving one; the task runs once per item, each seeing it as ${{ item }}, and its result is the list of the runs' results."""
    if_: str | bool | None = Field(default=None, alias="if")
    """Run only when this is true (an expression or a boolean); otherwise the task run ends COMPLETED with state name Skipped and result null."""
    outputs: list[str] | dict[str, str] | None = None
    """Files a shell task writes (relative to its working directory); the task fails when one is missing, and its result is their absolute paths (a list, or a mapping for a mapping)."""
    kernel: str | None = None
    """Kernel name overriding a notebook task's kernelspec."""
    cwd: str | None = None
    """Working directory of a notebook or shell task, relative to the pipeline's folder (default: the notebook's folder, the pipeline's folder)."""
    description: str | None = None
    """What the task does."""

    @property
    def kind(self) -> str:
        """``"python"``, ``"notebook"``, ``"shell"`` or ``"pipeline"`` (valid specs have exactly one)."""
        for kind in TASK_KINDS:
            if getattr(self, kind) is not None:
                return kind
        raise ValueError("task has no kind")

    @property
    def target(self) -> str:
        """The value of the kind key: callable reference, notebook path, command or pipeline path."""
        return getattr(self, self.kind)


class PipelineSpec(_Spec):
    """A whole pipeline.yaml: a named graph of tasks with typed parameters."""

    name: str = Field(min_length=1)
    """The pipeline's name, which names the compiled flow and its runs."""
    description: str | None = None
    """What the pipeline does."""
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    """Flow parameters by name (Python identifiers), referenced as ${{ params.NAME }}."""
    defaults: TaskOptions = Field(default_factory=TaskOptions)
    """Task options applied to every task; a task's own value wins (tags and env are combined)."""
    env: dict[str, EnvValue] = Field(default_factory=dict)
    """Environment variables for every task's process (shell tasks) and for ${{ env.NAME }}, over the environment of the run."""
    tasks: dict[str, TaskSpec] = Field(min_length=1)
    """Tasks by key; the key names the task run and is the NAME of ${{ tasks.NAME.result }}. Order in the file is kept."""


def pipeline_json_schema() -> dict[str, Any]:
    """The JSON Schema of ``pipeline.yaml`` (draft 2020-12), as committed in ``schemas/pipeline.schema.json``.

    Generated from :class:`PipelineSpec` with YAML key names (``with``,
    ``if``); editors using the yaml-language-server read its descriptions
    for completion and hover text.
    """
    schema = PipelineSpec.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
    }
