"""Placeholders and grids of a Ploomber ``pipeline.yaml``.

* ``{{key}}`` — a value from ``env.yaml`` beside the pipeline, or one of the
  built-ins ``here`` / ``root`` (the pipeline's folder), ``cwd`` and ``user``;
  a string that is one placeholder takes the value with its type;
* ``grid:`` — one set of values per combination (``itertools.product``), a
  mapping or a list of mappings; ``[[key]]`` in a task's ``name`` or
  ``product`` takes the point's value, otherwise names get ``<index>`` and
  paths ``-<index>`` before their extension (Ploomber's Spec API).
"""

from __future__ import annotations

import getpass
import itertools
import os
import re
from pathlib import Path
from typing import Any

from partita_workbench.pipelines.ploomber.keys import GRID_PLACEHOLDER, PLACEHOLDER
from partita_workbench.pipelines.yamlio import read_yaml, to_plain

__all__ = ["BUILTINS", "builtin_values", "read_env", "render", "grid_points", "fill", "suffixed"]


BUILTINS = ("here", "root", "cwd", "user")
"""Placeholders every pipeline has (Ploomber's default placeholders)."""


def builtin_values(folder: Path) -> dict[str, Any]:
    """``here``/``root``: the pipeline's folder; ``cwd``: the working directory; ``user``: the user name."""
    return {"here": str(folder), "root": str(folder), "cwd": os.getcwd(), "user": getpass.getuser()}


def read_env(folder: Path) -> dict[str, Any]:
    """The values of ``env.yaml`` beside the pipeline (``{}`` without one).

    Raises:
        partita_workbench.pipelines.yamlio.YamlSyntaxError: ``env.yaml`` is not valid YAML.
        ValueError: it is not a mapping of names to values.
    """
    env_file = folder / "env.yaml"
    if not env_file.is_file():
        return {}
    data = to_plain(read_yaml(env_file))
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise ValueError("env.yaml must map placeholder names to values")
    return data


def render(value: Any, env: dict[str, Any], missing: list[str]) -> Any:
    """``{{key}}`` placeholders replaced from ``env``; a whole-string placeholder keeps the value's type."""
    if isinstance(value, dict):
        return {k: render(v, env, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, env, missing) for v in value]
    if not isinstance(value, str):
        return value
    whole = PLACEHOLDER.fullmatch(value.strip())
    if whole and whole.group(1) in env:
        return env[whole.group(1)]

    def replace(match: re.Match[str]) -> str:
        if match.group(1) not in env:
            missing.append(match.group(1))
            return match.group(0)
        return str(env[match.group(1)])

    return PLACEHOLDER.sub(replace, value)


def grid_points(grid: Any) -> list[dict[str, Any]] | None:
    sets = grid if isinstance(grid, list) else [grid]
    points: list[dict[str, Any]] = []
    for one in sets:
        if not isinstance(one, dict) or not one:
            return None
        names = list(one)
        values = [v if isinstance(v, list) else [v] for v in one.values()]
        points.extend(dict(zip(names, combo)) for combo in itertools.product(*values))
    return points


def fill(template: str, point: dict[str, Any]) -> str:
    return GRID_PLACEHOLDER.sub(lambda m: str(point.get(m.group(1), m.group(0))), template)


def suffixed(path: str, index: int) -> str:
    p = Path(path)
    return str(p.with_name(f"{p.stem}-{index}{p.suffix}"))
