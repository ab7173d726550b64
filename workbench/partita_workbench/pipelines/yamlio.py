"""Reading pipeline YAML with ruamel.yaml, keeping each node's line and column.

The round-trip loader (``YAML(typ="rt")``) returns ``CommentedMap`` /
``CommentedSeq`` nodes that remember where each key and value starts; that is
what lets a validation problem say ``pipeline.yaml:12:7: ...``. Positions
stored by ruamel are 0-based; everything this module returns is 1-based, the
convention of compilers and editors.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarbool import ScalarBoolean

__all__ = ["Position", "YamlSyntaxError", "read_yaml", "parse_yaml", "load_plain", "locate", "to_plain", "gc_paused"]

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


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a short, allocation-heavy step.

    Reading, validating and compiling a large pipeline allocates tens of
    thousands of small objects and frees none of them, so the collector's
    passes find nothing to free and cost a fifth of the time. Reference
    counting still frees what is dropped; the collector is switched back on
    (if it was on) when the block ends, even on error.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_plain(text: str) -> Any:
    """Parse YAML text straight into plain data, fast (no positions).

    With ruamel.yaml's C parser (``ruamel.yaml.clib``) the document is
    composed in C, scalars resolved by ruamel's YAML 1.2 resolver (each
    distinct scalar once) and built into dicts and lists here: several
    times faster than the round-trip loader, so a valid file never pays for
    positions. Anything unusual (explicit tags, merge keys, duplicate keys,
    recursive aliases) or no C parser goes through ruamel's safe loader. The
    data equals ``to_plain(parse_yaml(text))``: same YAML 1.2 rules,
    timestamps as ISO 8601 strings.

    Raises:
        YamlSyntaxError: the text is not valid YAML (the position and
            message come from the round-trip loader, as in :func:`parse_yaml`).
    """
    try:
        if _FastComposer is not None:
            try:
                return _build(_FastComposer(text).get_single_node(), 0)
            except _Unusual:
                pass
        return to_plain(YAML(typ="safe", pure=False).load(text))
    except RecursionError:
        raise YamlSyntaxError((1, 1), "an alias refers to the node that holds it; recursive data is not supported") from None
    except YAMLError:
        # a syntax error raises here, with its position; what the safe loader
        # refuses but YAML allows (a custom tag) is read as written, for the
        # validator to report where it is
        return to_plain(parse_yaml(text))


class _Unusual(Exception):
    """A construct the fast builder leaves to ruamel's safe loader."""


_TAG = "tag:yaml.org,2002:"
_RESOLVED_TAGS: dict[tuple[str, Any], Any] = {}
_SCALAR_VALUES: dict[tuple[str, str], Any] = {}


def _make_fast_composer() -> Any:
    try:
        from _ruamel_yaml import CParser
    except ImportError:  # no ruamel.yaml.clib: the safe loader, pure Python
        return None

    class FastComposer(CParser, VersionedResolver):  # type: ignore[misc, valid-type]
        """ruamel's C parser and composer with its YAML 1.2 resolver, remembering each scalar's tag."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            VersionedResolver.__init__(self, loadumper=self)

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is ScalarNode:
                key = (value, implicit)
                tag = _RESOLVED_TAGS.get(key)
                if tag is None:
                    tag = _RESOLVED_TAGS[key] = VersionedResolver.resolve(self, kind, value, implicit)
                return tag
            return VersionedResolver.resolve(self, kind, value, implicit)

    return FastComposer


_FastComposer = _make_fast_composer()


@functools.lru_cache(maxsize=1)
def _scalar_constructor() -> Any:
    """ruamel's safe constructor (YAML 1.2), for numbers and timestamps."""
    return YAML(typ="safe", pure=True).constructor


def _build(node: Any, depth: int) -> Any:
    if node is None:
        return None
    if depth > 100:
        raise _Unusual  # recursive aliases
    tag = node.tag if isinstance(node.tag, str) else node.tag.value
    if isinstance(node, ScalarNode):
        if tag == _TAG + "str":
            return node.value
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            return node.value.lower() == "true"
        if tag in (_TAG + "int", _TAG + "float", _TAG + "timestamp"):
            key = (tag, node.value)
            if key not in _SCALAR_VALUES:
                _SCALAR_VALUES[key] = to_plain(_scalar_constructor().construct_object(node, deep=True))
            return _SCALAR_VALUES[key]
        raise _Unusual
    if isinstance(node, SequenceNode) and tag == _TAG + "seq":
        return [_build(item, depth + 1) for item in node.value]
    if isinstance(node, MappingNode) and tag == _TAG + "map":
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _build(key_node, depth + 1)
            if key_node.tag == _TAG + "merge" or isinstance(key, (dict, list)) or key in out:
                raise _Unusual
            out[key] = _build(value_node, depth + 1)
        return out
    raise _Unusual


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
    if isinstance(node, TaggedScalar) and str(node.tag) == "tag:yaml.org,2002:str":
        return str(node.value)
    return node
