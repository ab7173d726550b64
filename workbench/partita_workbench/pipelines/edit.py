"""Round-trip editing of pipeline YAML files.

:class:`PipelineEditor` loads a file with ruamel.yaml's round-trip mode and
changes it the way a person would with a text editor: only the characters of
the node being changed are rewritten. Every other byte of the file — comments,
key order, quoting, blank lines (also whitespace-only ones), indentation, a
missing final newline — is kept as it was. That matters for files reviewed in
pull requests: a one-key change gives a one-line diff.

How: each edit composes the current text with ruamel (``YAML.compose``, whose
nodes carry exact start and end marks), works out which character ranges to
replace or where to insert, and splices new text in. Re-emitting the whole
document with ruamel's dumper would not do: it lowercases ``True``, drops
whitespace-only lines and re-indents files that mix indentation widths.

Two task layouts are understood:

* Partita pipelines — ``tasks:`` is a mapping keyed by task name, dependencies
  in ``needs:``, references as ``${{ tasks.NAME.result }}``;
* Ploomber specs — ``tasks:`` (or the whole document) is a list, a task's name
  is its ``name:`` or its ``source`` file's stem, dependencies in ``upstream:``
  (a string or a list).

>>> editor = PipelineEditor.load("pipeline.yaml")        # doctest: +SKIP
>>> editor.rename_task("load", "extract")                # doctest: +SKIP
>>> editor.set(("tasks", "extract", "retries"), 2)       # doctest: +SKIP
>>> editor.save()                                        # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from partita.exceptions import PipelineEditError

from partita_workbench.pipelines.ploomber.names import default_task_name
from partita_workbench.pipelines.yamltext import (
    Indentation,
    block_children,
    key_index,
    scalars,
    entry_lines,
    flow_text,
    inline,
    item_lines,
    plain,
    scalar_text,
)


__all__ = ["PipelineEditor", "PipelineEditError"]

PathLike = Sequence[str | int] | str

_EXPRESSION = re.compile(r"\$\{\{((?:(?!\}\}).)*)\}\}", re.DOTALL)


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    text: str


class PipelineEditor:
    """Edit a pipeline YAML text in place, keeping every untouched byte.

    Args:
        text: the YAML text.
        path: the file it came from (used in messages and by :meth:`save`).

    Raises:
        partita.exceptions.PipelineEditError: the text is not valid YAML.
    """

    def __init__(self, text: str, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._text = text
        self._root = self._compose(text)

    # -- loading and saving ---------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path) -> PipelineEditor:
        """Read ``path`` (UTF-8).

        Raises:
            partita.exceptions.PipelineEditError: the file is not valid YAML.
            OSError: it cannot be read.
        """
        with open(path, encoding="utf-8", newline="") as handle:  # keep \r\n as written
            return cls(handle.read(), path)

    @property
    def text(self) -> str:
        """The current text."""
        return self._text

    @property
    def document(self) -> Any:
        """The current text as ruamel round-trip data (``CommentedMap``...)."""
        return YAML(typ="rt").load(self._text)

    def save(self, path: str | Path | None = None) -> Path:
        """Write the text to ``path`` (default: the file it was loaded from).

        Returns:
            The path written.

        Raises:
            partita.exceptions.PipelineEditError: no path given and none known.
        """
        target = Path(path) if path is not None else self.path
        if target is None:
            raise PipelineEditError("no file to save to: give save() a path")
        with open(target, "w", encoding="utf-8", newline="") as handle:
            handle.write(self._text)
        return target

    # -- generic keys -----------------------------------------------------------------

    def set(self, path: PathLike, value: Any) -> None:
        """Set the value at ``path``, creating the last key when missing.

        Args:
            path: keys and list indexes from the root, e.g.
                ``("tasks", "load", "retries")`` or ``"tasks.load.retries"``
                (dotted; digits index lists).
            value: a JSON-like value (scalars, lists, dicts).

        Raises:
            partita.exceptions.PipelineEditError: a step of the path (other
                than the last) does not exist or is not a mapping / list.
        """
        steps = _steps(path)
        parent = self._resolve(steps[:-1])
        last = steps[-1]
        if isinstance(parent, MappingNode):
            index = key_index(parent, last)
            if index is None:
                self._apply(self._insert_entry(parent, last, value))
            else:
                self._apply([self._replace_value(parent.value[index][1], value, parent, index)])
        elif isinstance(parent, SequenceNode) and isinstance(last, int) and 0 <= last < len(parent.value):
            self._apply([self._replace_item(parent, last, value)])
        else:
            raise PipelineEditError(self._where(parent, f"cannot set {_show(steps)}: its parent is not a mapping"))

    def unset(self, path: PathLike) -> None:
        """Remove the key (or list item) at ``path``, with its lines.

        Raises:
            partita.exceptions.PipelineEditError: nothing is at ``path``.
        """
        steps = _steps(path)
        parent = self._resolve(steps[:-1])
        last = steps[-1]
        if isinstance(parent, MappingNode) and (index := key_index(parent, last)) is not None:
            self._apply([self._remove_entry(parent, index)])
        elif isinstance(parent, SequenceNode) and isinstance(last, int) and 0 <= last < len(parent.value):
            self._apply([self._remove_item(parent, last)])
        else:
            raise PipelineEditError(self._where(parent, f"nothing to unset at {_show(steps)}"))

    # -- tasks ------------------------------------------------------------------------

    def task_names(self) -> list[str]:
        """Task names in file order."""
        return [name for name, _ in self._tasks()]

    def add_task(self, name: str, body: Mapping[str, Any]) -> None:
        """Add a task at the end of ``tasks:``.

        Args:
            name: the new task's name (its key, or its ``name:`` in a Ploomber spec).
            body: its keys, e.g. ``{"python": "steps:load", "needs": ["a"]}``.

        Raises:
            partita.exceptions.PipelineEditError: a task of that name exists,
                or the file has no ``tasks:``.
        """
        container = self._tasks_node()
        if name in self.task_names():
            raise PipelineEditError(self._where(container, f"task '{name}' already exists"))
        if isinstance(container, MappingNode):
            self._apply(self._insert_entry(container, name, dict(body)))
        else:
            self._apply(self._append_item(container, {"name": name, **dict(body)}))

    def remove_task(self, name: str) -> None:
        """Remove a task, and drop it from other tasks' dependency lists.

        Raises:
            partita.exceptions.PipelineEditError: no such task, or another
                task uses its result through ``${{ tasks.NAME... }}`` (change
                those first; nothing is changed then).
        """
        self._task_node(name)
        users = [
            (other, scalar)
            for other, task in self._tasks()
            if other != name
            for scalar in scalars(task)
            if _references(scalar.value, name)
        ]
        if users:
            other, scalar = users[0]
            raise PipelineEditError(
                self._where(scalar, f"cannot remove task '{name}': task '{other}' uses its result; change that reference first")
            )
        for other, task in self._tasks():
            if other != name and isinstance(task, MappingNode):
                self._drop_dependency(other, name)
        container = self._tasks_node()
        if isinstance(container, MappingNode):
            self._apply([self._remove_entry(container, key_index(container, name))])
        else:
            self._apply([self._remove_item(container, self.task_names().index(name))])

    def rename_task(self, old: str, new: str) -> None:
        """Rename a task, rewriting ``needs:``/``upstream:`` entries and ``${{ tasks.OLD... }}`` references.

        Raises:
            partita.exceptions.PipelineEditError: no task ``old``, or a task
                ``new`` exists already.
        """
        self._task_node(old)
        if new in self.task_names():
            raise PipelineEditError(self._where(self._tasks_node(), f"task '{new}' already exists"))
        edits: list[_Edit] = []
        container = self._tasks_node()
        for other, task in self._tasks():
            if other == old:
                if isinstance(container, MappingNode):
                    key = container.value[key_index(container, old)][0]
                    edits.append(_Edit(key.start_mark.index, key.end_mark.index, scalar_text(new, key)))
                else:
                    index = key_index(task, "name")
                    if index is None:
                        edits.extend(self._insert_entry(task, "name", new))
                    else:
                        value = task.value[index][1]
                        edits.append(_Edit(value.start_mark.index, value.end_mark.index, scalar_text(new, value)))
            deps = self._dependency_node(task)
            for scalar in [deps] if isinstance(deps, ScalarNode) else (deps.value if deps is not None else []):
                if isinstance(scalar, ScalarNode) and scalar.value == old:
                    edits.append(_Edit(scalar.start_mark.index, scalar.end_mark.index, scalar_text(new, scalar)))
            for scalar in scalars(task):
                if _references(scalar.value, old):
                    edits.append(self._rewrite_references(scalar, old, new))
        self._apply(edits)

    def add_dependency(self, task: str, upstream: str) -> None:
        """Make ``task`` wait for ``upstream`` (``needs:`` / ``upstream:``); no-op when it already does.

        Raises:
            partita.exceptions.PipelineEditError: either task does not exist.
        """
        node = self._task_node(task)
        self._task_node(upstream)
        if upstream == task:
            raise PipelineEditError(self._where(node, f"task '{task}' cannot depend on itself"))
        deps = self._dependency_node(node)
        key = self._dependency_key()
        if deps is None or (isinstance(deps, ScalarNode) and deps.tag.endswith(":null")):
            self.set((*self._task_path(task), key), [upstream])
        elif isinstance(deps, ScalarNode):  # Ploomber's "upstream: clean"
            if deps.value != upstream:
                self.set((*self._task_path(task), key), [deps.value, upstream])
        elif isinstance(deps, SequenceNode):
            if upstream not in [item.value for item in deps.value if isinstance(item, ScalarNode)]:
                self._apply(self._append_item(deps, upstream))

    # -- tasks: helpers -----------------------------------------------------------------

    def _tasks_node(self) -> MappingNode | SequenceNode:
        root = self._root
        if isinstance(root, SequenceNode):
            return root
        if isinstance(root, MappingNode) and (index := key_index(root, "tasks")) is not None:
            node = root.value[index][1]
            if isinstance(node, (MappingNode, SequenceNode)):
                return node
        raise PipelineEditError(self._where(root, "this file has no 'tasks:' mapping or list"))

    def _tasks(self) -> Iterator[tuple[str, Node]]:
        container = self._tasks_node()
        if isinstance(container, MappingNode):
            for key, value in container.value:
                yield str(key.value), value
            return
        for index, item in enumerate(container.value):
            yield _ploomber_name(item, index), item

    def _task_node(self, name: str) -> Node:
        for other, node in self._tasks():
            if other == name:
                return node
        from partita_workbench.pipelines.suggest import did_you_mean

        hint = did_you_mean(name, self.task_names())
        raise PipelineEditError(self._where(self._tasks_node(), f"no task '{name}'{hint}"))

    def _task_path(self, name: str) -> tuple[str | int, ...]:
        container = self._tasks_node()
        prefix: tuple[str | int, ...] = () if container is self._root else ("tasks",)
        if isinstance(container, MappingNode):
            return (*prefix, name)
        return (*prefix, self.task_names().index(name))

    def _dependency_key(self) -> str:
        return "needs" if isinstance(self._tasks_node(), MappingNode) else "upstream"

    def _dependency_node(self, task: Node) -> Node | None:
        if not isinstance(task, MappingNode):
            return None
        index = key_index(task, self._dependency_key())
        return None if index is None else task.value[index][1]

    def _drop_dependency(self, task: str, upstream: str) -> None:
        node = self._task_node(task)
        deps = self._dependency_node(node)
        path = (*self._task_path(task), self._dependency_key())
        if isinstance(deps, ScalarNode) and deps.value == upstream:
            self.unset(path)
        elif isinstance(deps, SequenceNode):
            values = [item.value for item in deps.value]
            if upstream not in values:
                return
            if len(values) == 1:
                self.unset(path)
            else:
                self.unset((*path, values.index(upstream)))

    def _rewrite_references(self, scalar: ScalarNode, old: str, new: str) -> _Edit:
        """Replace ``tasks.OLD`` inside the ``${{ }}`` of a scalar's source text."""
        start, end = scalar.start_mark.index, scalar.end_mark.index
        source = self._text[start:end]
        pattern = _task_reference(old)

        def fix(match: re.Match[str]) -> str:
            return match.group(0).replace(match.group(1), pattern.sub(f"tasks.{new}", match.group(1)))

        return _Edit(start, end, _EXPRESSION.sub(fix, source))

    # -- structure ----------------------------------------------------------------------

    def _compose(self, text: str) -> Node:
        try:
            node = YAML(typ="rt").compose(text)
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            problem = exc.problem or exc.context or type(exc).__name__
            raise PipelineEditError(f"{self.path or '<text>'}:{line}:{column}: invalid YAML: {problem}") from None
        except YAMLError as exc:
            raise PipelineEditError(f"{self.path or '<text>'}:1:1: invalid YAML: {exc}") from None
        if node is None:
            raise PipelineEditError(f"{self.path or 'text'}: the document is empty")
        return node

    def _resolve(self, steps: Sequence[str | int]) -> Node:
        node = self._root
        for depth, step in enumerate(steps):
            if isinstance(node, MappingNode) and (index := key_index(node, step)) is not None:
                node = node.value[index][1]
            elif isinstance(node, SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
                node = node.value[step]
            else:
                raise PipelineEditError(self._where(node, f"{_show(steps[: depth + 1])} does not exist"))
        return node

    def _where(self, node: Node, message: str) -> str:
        mark = node.start_mark
        return f"{self.path or '<text>'}:{mark.line + 1}:{mark.column + 1}: {message}"

    def _style(self) -> Indentation:
        mapping = offset = None
        for parent_col, node in block_children(self._root):
            if isinstance(node, MappingNode) and mapping is None and parent_col is not None:
                mapping = node.start_mark.column - parent_col
            if isinstance(node, SequenceNode) and offset is None and parent_col is not None:
                offset = self._dash_column(node, 0) - parent_col
        return Indentation(mapping=mapping if mapping and mapping > 0 else 2, offset=offset if offset is not None and offset >= 0 else 2)

    # -- text positions -----------------------------------------------------------------

    def _line_start(self, index: int) -> int:
        return self._text.rfind("\n", 0, index) + 1

    def _line_end(self, index: int) -> int:
        """Index just past the newline of the line holding ``index`` (or the text's end)."""
        found = self._text.find("\n", index)
        return len(self._text) if found < 0 else found + 1

    def _dash_column(self, seq: SequenceNode, item: int) -> int:
        node = seq.value[item]
        start = self._line_start(node.start_mark.index)
        dash = self._text.rfind("-", start, node.start_mark.index)
        return (dash - start) if dash >= 0 else node.start_mark.column

    def _block_end(self, node: Node, column: int) -> int:
        """End (line-aligned) of a block entry whose value is ``node``; trailing blank
        lines and comments at or left of ``column`` belong to what follows."""
        end = node.end_mark.index
        if isinstance(node, ScalarNode) or node.flow_style:
            return self._line_end(end - 1 if end > 0 and self._text[end - 1] == "\n" else end)
        if self._text[self._line_start(end) : end].strip():
            end = self._line_end(end)
        else:
            end = self._line_start(end)
        while True:
            last_start = self._line_start(end - 1) if end > 0 else 0
            line = self._text[last_start:end]
            stripped = line.strip()
            indent = len(line) - len(line.lstrip())
            if last_start <= node.start_mark.index or not (not stripped or (stripped.startswith("#") and indent <= column)):
                return end
            end = last_start

    def _entry_span(self, mapping: MappingNode, index: int) -> tuple[int, int]:
        key, value = mapping.value[index]
        return self._line_start(key.start_mark.index), self._block_end(value, key.start_mark.column)

    def _item_span(self, seq: SequenceNode, index: int) -> tuple[int, int]:
        node = seq.value[index]
        return self._line_start(node.start_mark.index), self._block_end(node, self._dash_column(seq, index))

    # -- edits --------------------------------------------------------------------------

    def _apply(self, edits: list[_Edit]) -> None:
        text = self._text
        for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
            text = text[: edit.start] + edit.text + text[edit.end :]
        self._root = self._compose(text)
        self._text = text

    def _newline(self) -> str:
        return "\r\n" if "\r\n" in self._text else "\n"

    def _lines(self, lines: list[str]) -> str:
        newline = self._newline()
        return "".join(line + newline for line in lines)

    def _insert_at(self, index: int, lines: list[str]) -> _Edit:
        prefix = "" if index == 0 or self._text[index - 1] == "\n" else self._newline()
        return _Edit(index, index, prefix + self._lines(lines))

    def _insert_entry(self, mapping: MappingNode, key: str | int, value: Any) -> list[_Edit]:
        if mapping.flow_style or not mapping.value:
            updated = {k.value: plain(v) for k, v in mapping.value} | {key: value}
            return [_Edit(mapping.start_mark.index, mapping.end_mark.index, flow_text(updated))]
        column = mapping.value[0][0].start_mark.column
        end = self._entry_span(mapping, len(mapping.value) - 1)[1]
        return [self._insert_at(end, entry_lines(key, value, column, self._style()))]

    def _append_item(self, seq: SequenceNode, value: Any) -> list[_Edit]:
        if seq.flow_style or not seq.value:
            updated = [plain(item) for item in seq.value] + [value]
            return [_Edit(seq.start_mark.index, seq.end_mark.index, flow_text(updated))]
        column = self._dash_column(seq, 0)
        end = self._item_span(seq, len(seq.value) - 1)[1]
        return [self._insert_at(end, item_lines(value, column, self._style()))]

    def _replace_value(self, node: Node, value: Any, mapping: MappingNode, index: int) -> _Edit:
        key = mapping.value[index][0]
        if inline(value) and (isinstance(node, ScalarNode) or node.flow_style):
            text = scalar_text(value, node) if isinstance(node, ScalarNode) else flow_text(value)
            if isinstance(node, ScalarNode) and node.style in ("|", ">"):
                start, end = node.start_mark.index, self._block_end(node, key.start_mark.column)
                return _Edit(start, end, text + self._newline())
            return _Edit(node.start_mark.index, node.end_mark.index, text)
        if mapping.flow_style:
            updated = {k.value: plain(v) for k, v in mapping.value} | {key.value: value}
            return _Edit(mapping.start_mark.index, mapping.end_mark.index, flow_text(updated))
        start, end = self._entry_span(mapping, index)
        lines = entry_lines(key.value, value, key.start_mark.column, self._style())
        if self._after_dash(key):  # "- key: ..." keeps its dash
            start, lines[0] = key.start_mark.index, lines[0].lstrip(" ")
        return _Edit(start, end, self._lines(lines))

    def _after_dash(self, key: Node) -> bool:
        """Whether a mapping key follows a sequence dash on its line (``- key: value``)."""
        return bool(self._text[self._line_start(key.start_mark.index) : key.start_mark.index].strip())

    def _replace_item(self, seq: SequenceNode, index: int, value: Any) -> _Edit:
        node = seq.value[index]
        if seq.flow_style:
            updated = [plain(item) for item in seq.value]
            updated[index] = value
            return _Edit(seq.start_mark.index, seq.end_mark.index, flow_text(updated))
        if inline(value) and isinstance(node, ScalarNode):
            return _Edit(node.start_mark.index, node.end_mark.index, scalar_text(value, node))
        start, end = self._item_span(seq, index)
        return _Edit(start, end, self._lines(item_lines(value, self._dash_column(seq, index), self._style())))

    def _remove_entry(self, mapping: MappingNode, index: int) -> _Edit:
        if mapping.flow_style:
            updated = {k.value: plain(v) for i, (k, v) in enumerate(mapping.value) if i != index}
            return _Edit(mapping.start_mark.index, mapping.end_mark.index, flow_text(updated))
        if len(mapping.value) == 1 and mapping is not self._root:
            # the mapping would be empty: leave an explicit empty mapping
            start, end = self._entry_span(mapping, 0)
            return self._replace_collection(mapping, start, end, "{}")
        key = mapping.value[index][0]
        if self._after_dash(key):  # "- key: v" then "  other: w": "- other: w"
            return _Edit(key.start_mark.index, mapping.value[index + 1][0].start_mark.index, "")
        return self._remove_lines(*self._entry_span(mapping, index), first=index == 0)

    def _remove_item(self, seq: SequenceNode, index: int) -> _Edit:
        if seq.flow_style:
            updated = [plain(item) for i, item in enumerate(seq.value) if i != index]
            return _Edit(seq.start_mark.index, seq.end_mark.index, flow_text(updated))
        if len(seq.value) == 1 and seq is not self._root:
            start, end = self._item_span(seq, 0)
            return self._replace_collection(seq, start, end, "[]")
        return self._remove_lines(*self._item_span(seq, index), first=index == 0)

    def _replace_collection(self, node: Node, start: int, end: int, empty: str) -> _Edit:
        """Empty a block collection whose only entry spans ``[start, end)``: ``key: {}`` / ``key: []``."""
        prev_start = self._line_start(start - 1) if start > 0 else 0
        code = self._text[prev_start:start].split("#", 1)[0].rstrip()
        if start > 0 and code.endswith(":"):  # "key:" on the line before: "key: {}"
            return _Edit(prev_start + len(code), end, f" {empty}{self._newline()}")
        # "- key: value" as a sequence item: keep the dash, empty the mapping
        return _Edit(node.start_mark.index, end, f"{empty}{self._newline()}")

    def _remove_lines(self, start: int, end: int, first: bool) -> _Edit:
        """Remove whole lines; blank lines left doubled (or leading a block) by the removal go too."""
        blank_after = end
        while blank_after < len(self._text):
            line_end = self._line_end(blank_after)
            if self._text[blank_after:line_end].strip():
                break
            blank_after = line_end
        before_start = self._line_start(start - 1) if start > 0 else 0
        blank_before = start > 0 and not self._text[before_start:start].strip()
        if (blank_before or first) and blank_after > end:
            return _Edit(start, blank_after, "")
        if blank_before and blank_after >= len(self._text):
            return _Edit(before_start, end, "")
        return _Edit(start, end, "")


# -- emitting -------------------------------------------------------------------------------


def _steps(path: PathLike) -> list[str | int]:
    if isinstance(path, str):
        return [int(part) if part.isdigit() else part for part in path.split(".")]
    if not path:
        raise PipelineEditError("empty path: name at least one key")
    return list(path)


def _show(steps: Sequence[str | int]) -> str:
    return "".join(f"[{s}]" if isinstance(s, int) else (f".{s}" if i else str(s)) for i, s in enumerate(steps)) or "<root>"


def _task_reference(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.-])tasks\.{re.escape(name)}(?=[.\[\s|}}]|$)")


def _references(text: str, name: str) -> bool:
    pattern = _task_reference(name)
    return any(pattern.search(match.group(1)) for match in _EXPRESSION.finditer(text))


def _ploomber_name(item: Node, index: int) -> str:
    if isinstance(item, MappingNode):
        for key, value in item.value:
            if key.value == "name" and isinstance(value, ScalarNode):
                return value.value
        for key, value in item.value:
            if key.value == "source" and isinstance(value, ScalarNode):
                return default_task_name(value.value)
    return f"<task {index}>"
