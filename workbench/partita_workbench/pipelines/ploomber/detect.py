"""Telling a Ploomber ``pipeline.yaml`` from a Partita pipeline, reading nothing but the YAML.

Kept apart from :mod:`.spec` (which reads task sources with nbformat and
jupytext) so that ``partita run pipeline.yaml`` can choose the front end
without importing either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from partita_workbench.pipelines.yamlio import YamlSyntaxError, read_yaml

__all__ = ["is_ploomber_spec", "is_ploomber_file"]


def is_ploomber_spec(data: Any) -> bool:
    """Whether a parsed YAML document is a Ploomber spec rather than a Partita pipeline.

    A Ploomber spec is a list of tasks, or a mapping without ``name:`` (which
    every Partita pipeline has) whose ``tasks:`` is a list (Partita's is a
    mapping) or that has Ploomber's ``meta:`` section or ``location:``
    (factory) key.
    """
    if isinstance(data, list):
        return True
    if not isinstance(data, dict) or "name" in data:
        return False
    return isinstance(data.get("tasks"), list) or "meta" in data or "location" in data


def is_ploomber_file(path: str | Path) -> bool:
    """Whether a YAML file holds a Ploomber spec (``False`` when it cannot be parsed)."""
    try:
        return is_ploomber_spec(read_yaml(Path(path)))
    except (YamlSyntaxError, OSError, UnicodeDecodeError):
        return False
