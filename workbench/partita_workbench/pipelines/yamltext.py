"""Writing YAML fragments that fit into an existing file's text.

Used by :mod:`partita_workbench.pipelines.edit`, which splices new text into a
file instead of re-emitting the whole document: these helpers find nodes in
a composed document (:func:`key_index`, :func:`block_children`,
:func:`scalars`) and produce the
text of one scalar, one flow collection (``[a, b]``, ``{k: v}``) or the lines
of one block entry / list item at a given column, indented like the file.
Scalars are rendered by ruamel.yaml, so strings that need quotes get them.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "Indentation",
    "Verbatim",
    "plain",
    "inline",
    "scalar_text",
    "flow_text",
    "entry_lines",
    "item_lines",
    "key_index",
    "block_children",
    "scalars",
]


@dataclass(frozen=True)
class Indentation:
    """Indentation of the file, for emitting new block content like its neighbours.

    Attributes:
        mapping: columns a nested mapping is indented by.
        offset: columns from a key to the ``-`` of its block sequence.
    """

    mapping: int = 2
    offset: int = 2


def plain(node: Node) -> Any:
    """A composed node back to plain data (for re-emitting a flow collection)."""
    if isinstance(node, MappingNode):
        return {k.value: plain(v) for k, v in node.value}
    if isinstance(node, SequenceNode):
        return [plain(item) for item in node.value]
    return Verbatim(node)


class Verbatim:
    """A scalar kept as it was written (quotes and all) when its collection is re-emitted."""

    def __init__(self, node: ScalarNode) -> None:
        self.node = node


def inline(value: Any) -> bool:
    """Whether ``value`` is written on the key's line (a scalar or a short flat list)."""
    if isinstance(value, (dict, Mapping)):
        return not value
    if isinstance(value, (list, tuple)):
        return all(not isinstance(item, (dict, list, tuple, Mapping)) for item in value)
    return True


def scalar_text(value: Any, like: ScalarNode | None = None) -> str:
    """YAML text of a scalar; a string keeps the quote style of the node it replaces."""
    if isinstance(value, Verbatim):
        node = value.node
        return scalar_text(node.value, node) if node.style not in ("|", ">") else scalar_text(node.value)
    if isinstance(value, bool) and like is not None and like.tag.endswith(":bool") and like.value[:1].isupper():
        return ("True" if value else "False") if like.value[1:2].islower() else ("TRUE" if value else "FALSE")
    if isinstance(value, str) and like is not None and like.style in ("'", '"'):
        if like.style == "'":
            return "'" + value.replace("'", "''") + "'"
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = True
    yaml.width = 1 << 30
    buffer = io.StringIO()
    yaml.dump([value], buffer)
    text = buffer.getvalue().strip()
    return text[1:-1]


def flow_text(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{scalar_text(k)}: {flow_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow_text(item) for item in value) + "]"
    return scalar_text(value)


def entry_lines(key: Any, value: Any, column: int, style: Indentation) -> list[str]:
    pad = " " * column
    head = f"{pad}{scalar_text(key)}:"
    if inline(value):
        return [f"{head} {flow_text(value)}"]
    if isinstance(value, Mapping):
        lines = [head]
        for sub_key, sub_value in value.items():
            lines.extend(entry_lines(sub_key, sub_value, column + style.mapping, style))
        return lines
    lines = [head]
    for item in value:
        lines.extend(item_lines(item, column + style.offset, style))
    return lines


def item_lines(value: Any, column: int, style: Indentation) -> list[str]:
    pad = " " * column
    if inline(value) and not (isinstance(value, Mapping) and value):
        return [f"{pad}- {flow_text(value)}"]
    if isinstance(value, Mapping):
        lines: list[str] = []
        for sub_key, sub_value in value.items():
            lines.extend(entry_lines(sub_key, sub_value, column + 2, style))
        lines[0] = f"{pad}- " + lines[0][column + 2 :]
        return lines
    lines = [f"{pad}-"]
    for item in value:
        lines.extend(item_lines(item, column + 2, style))
    return lines


# -- composed nodes ------------------------------------------------------------------------


def key_index(mapping: Node, key: str | int) -> int | None:
    if not isinstance(mapping, MappingNode):
        return None
    for index, (key_node, _) in enumerate(mapping.value):
        if isinstance(key_node, ScalarNode) and key_node.value == str(key):
            return index
    return None


def block_children(node: Node, parent_col: int | None = None) -> Iterator[tuple[int | None, Node]]:
    if isinstance(node, MappingNode) and not node.flow_style:
        for key, value in node.value:
            if isinstance(value, (MappingNode, SequenceNode)) and not value.flow_style and value.start_mark.line > key.start_mark.line:
                yield key.start_mark.column, value
            yield from block_children(value, key.start_mark.column)
    elif isinstance(node, SequenceNode) and not node.flow_style:
        for item in node.value:
            yield from block_children(item, None)


def scalars(node: Node) -> Iterator[ScalarNode]:
    if isinstance(node, ScalarNode):
        yield node
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            yield from scalars(value)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            yield from scalars(item)
