"""Reading pipeline YAML with ruamel.yaml, keeping each node's line and column.

The round-trip loader (``YAML(typ="rt")``) returns ``CommentedMap`` /
``CommentedSeq`` nodes that remember where each key and value starts; that is
what lets a validation problem say ``pipeline.yaml:12:7: ...``. Positions
stored by ruamel are 0-based; everything this module returns is 1-based, the
convention of compilers and editors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

__all__ = ["Position", "YamlSyntaxError", "read_yaml", "parse_yaml", "load_plain", "locate", "to_plain"]

Position = tuple[int, int]
"""``(line, column)``, both 1-based."""


class YamlSyntaxError(Exception):
    """The text is not valid YAML (syntax error, duplicate key...).

    Attributes:
        position: 1-based ``(line, column)`` of the offending character.
        problem: what is wrong, as reported by ruamel.yaml.
    """

    def __init__(self, position: Position, problem: str) -> None:
        self.position = position
        self.problem = problem
        super().__init__(f"{position[0]}:{position[1]}: {problem}")


def load_plain(text: str) -> Any:
    """Parse YAML text straight into plain data, fast (no positions).

    Uses ruamel.yaml's safe loader, with its C parser (``ruamel.yaml.clib``)
    when installed: several times faster than the round-trip loader, so a
    valid file never pays for positions. The data equals
    ``to_plain(parse_yaml(text))``: same YAML 1.2 rules; timestamps become
    ISO 8601 strings.

    Raises:
        YamlSyntaxError: the text is not valid YAML (the position and
            message come from the round-trip loader, as in :func:`parse_yaml`).
    """
    try:
        loader = YAML(typ="safe", pure=False)
        return to_plain(loader.load(text))
    except YAMLError:
        parse_yaml(text)  # raises the positioned error
        raise  # pragma: no cover - both loaders reject the same texts


def read_yaml(path: Path) -> Any:
    """Parse a YAML file into ruamel round-trip nodes (see :func:`parse_yaml`).

    Raises:
        YamlSyntaxError: the text is not valid YAML.
        OSError: the file cannot be read.
    """
    return parse_yaml(path.read_text(encoding="utf-8"))


def parse_yaml(text: str) -> Any:
    """Parse YAML text into ruamel round-trip nodes.

    Args:
        text: the YAML document.

    Returns:
        The document: usually a ``CommentedMap``; ``None`` for an empty file.

    Raises:
        YamlSyntaxError: the text is not valid YAML; the position comes from
            the ruamel exception's ``problem_mark`` (or ``context_mark``).
    """
    try:
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        position = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = exc.problem or exc.context or type(exc).__name__
        if exc.problem and exc.context:
            # e.g. "... (while parsing a flow sequence at 5:12)": where the construct began
            where = f" at {exc.context_mark.line + 1}:{exc.context_mark.column + 1}" if exc.context_mark else ""
            problem = f"{problem} ({exc.context}{where})"
        raise YamlSyntaxError(position, problem) from exc
    except YAMLError as exc:  # errors without a mark (rare: e.g. bad encoding)
        raise YamlSyntaxError((1, 1), str(exc)) from exc


def _start(node: Any, fallback: Position) -> Position:
    lc = getattr(node, "lc", None)
    if lc is not None and lc.line is not None:
        return (lc.line + 1, lc.col + 1)
    return fallback


def locate(root: Any, path: Sequence[str | int], *, key: bool = False) -> Position:
    """Find where the node at ``path`` starts in the document.

    Args:
        root: the document returned by :func:`read_yaml`.
        path: keys and list indexes from the root, e.g. ``("tasks", "a",
            "needs", 1)`` (a pydantic error ``loc`` has this shape; its
            ``"[key]"`` step, used for errors about a mapping key, selects the
            key of the previous step).
        key: give the position of the last mapping *key* rather than its value
            (used for "unknown key" problems).

    Returns:
        1-based ``(line, column)``. When the path leaves the document (a
        missing key), the position of the deepest node that exists.
    """
    node: Any = root
    position = _start(root, (1, 1))
    steps = list(path)
    if steps and steps[-1] == "[key]":
        steps.pop()
        key = True
    for index, step in enumerate(steps):
        last = index == len(steps) - 1
        if isinstance(node, CommentedMap) and step in node:
            line, col = node.lc.key(step) if (last and key) else node.lc.value(step)
            position = (line + 1, col + 1)
            node = node[step]
        elif isinstance(node, CommentedSeq) and isinstance(step, int) and 0 <= step < len(node):
            line, col = node.lc.item(step)
            position = (line + 1, col + 1)
            node = node[step]
        else:
            break
    return position


def to_plain(node: Any) -> Any:
    """Convert ruamel nodes to plain Python data.

    Mappings become ``dict``, sequences ``list``, ruamel's scalar subclasses
    their base type. YAML timestamps (``2024-05-01``) become ISO 8601 strings,
    so values stay JSON-compatible like every other pipeline value.
    """
    if isinstance(node, dict):
        return {to_plain(k): to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    if isinstance(node, ScalarBoolean):
        return bool(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, (dt.date, dt.datetime)):
        return node.isoformat()
    return node
