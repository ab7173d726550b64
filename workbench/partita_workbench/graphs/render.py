"""Drawing a graph document: text, Mermaid, Graphviz DOT, SVG and JSON.

``render(document, fmt, states=None)`` is the one entry point; ``states``
maps task names to state names (``"Completed"``, ``"Failed"``...) to colour
the nodes with a run's outcome.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from partita_workbench.graphs.model import GraphDocument
from partita_workbench.graphs.styles import order, state_colour

__all__ = ["FORMATS", "render", "to_text", "to_mermaid", "to_dot", "to_json"]

FORMATS = ("text", "mermaid", "dot", "svg", "json")
"""What :func:`render` draws."""


def _document(document: GraphDocument | Mapping[str, Any]) -> GraphDocument:
    return document if isinstance(document, GraphDocument) else GraphDocument.model_validate(document)


def render(document: GraphDocument | Mapping[str, Any], fmt: str, states: Mapping[str, str] | None = None) -> str:
    """The graph in one format.

    Args:
        document: a :class:`GraphDocument` or its dict form.
        fmt: one of :data:`FORMATS`. ``svg`` uses Graphviz ``dot`` when it is
            on ``PATH``, else a layered layout drawn here.
        states: task name → state name, to colour nodes (and, in text, to list).

    Returns:
        The drawing as text (JSON for ``json``; an SVG document for ``svg``).

    Raises:
        ValueError: an unknown format.
        pydantic.ValidationError: ``document`` is not a graph document.
    """
    doc = _document(document)
    states = dict(states or {})
    if fmt == "text":
        return to_text(doc, states)
    if fmt == "mermaid":
        return to_mermaid(doc, states)
    if fmt == "dot":
        return to_dot(doc, states)
    if fmt == "svg":
        from partita_workbench.graphs.svg import to_svg

        return to_svg(doc, states)
    if fmt == "json":
        return to_json(doc, states)
    raise ValueError(f"unknown graph format '{fmt}'; use one of {', '.join(FORMATS)}")


def _pairs(doc: GraphDocument) -> list[tuple[str, str]]:
    return [(e.from_, e.to) for e in doc.edges]


def _parameter_text(name: str, spec: Any) -> str:
    kind = spec.type or "any"
    if spec.format:
        kind = f"{kind}, {spec.format}"
    default = "" if "default" not in spec.model_fields_set else f" = {json.dumps(spec.default, default=str)}"
    return f"{name} ({kind}){default}"


def to_text(doc: GraphDocument, states: Mapping[str, str]) -> str:
    """Tasks in a topological order, each with its kind, upstream tasks and (given states) its state."""
    lines = [f"{doc.name} ({doc.kind}, {doc.source})"]
    if doc.parameters:
        lines.append("parameters: " + ", ".join(_parameter_text(n, p) for n, p in doc.parameters.items()))
    kinds = {t.name: t.kind for t in doc.tasks}
    ups: dict[str, list[str]] = {t.name: [] for t in doc.tasks}
    for a, b in _pairs(doc):
        ups.setdefault(b, []).append(a)
    ordered = order(doc.task_names(), _pairs(doc))
    width = max((len(n) for n in ordered), default=0)
    kind_width = max((len(k) for k in kinds.values()), default=0) + 2
    for name in ordered:
        row = f"  {name:<{width}}  {'[' + kinds[name] + ']':<{kind_width}}"
        if name in states:
            row += f"  {states[name]}"
        if ups[name]:
            row += f"  <- {', '.join(ups[name])}"
        lines.append(row.rstrip())
    return "\n".join(lines) + "\n"


def _ids(doc: GraphDocument) -> dict[str, str]:
    return {t.name: f"t{i}" for i, t in enumerate(doc.tasks)}


def _via_label(edge: Any) -> str:
    names = [v.name for v in edge.via if v.kind != "needs"]
    return ", ".join(dict.fromkeys(names))


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(doc: GraphDocument, states: Mapping[str, str]) -> str:
    """A Mermaid ``flowchart TD``; needs edges dotted, data edges labelled with what carries them."""
    ids = _ids(doc)
    lines = ["flowchart TD"]
    for task in doc.tasks:
        label = f"{task.name}<br/><small>{task.kind}</small>"
        if task.name in states:
            label += f"<br/><small>{states[task.name]}</small>"
        lines.append(f'    {ids[task.name]}["{_mermaid_text(label)}"]')
    for edge in doc.edges:
        if edge.from_ not in ids or edge.to not in ids:
            continue
        label = _via_label(edge)
        arrow = "-->" if label else "-.->"
        text = f'|"{_mermaid_text(label)}"|' if label else ""
        lines.append(f"    {ids[edge.from_]} {arrow}{text} {ids[edge.to]}")
    used = {}
    for task in doc.tasks:
        state = states.get(task.name)
        if state:
            css = state.replace(" ", "").lower()
            used.setdefault(css, state_colour(state))
            lines.append(f"    class {ids[task.name]} {css}")
    for css, (fill, stroke) in used.items():
        lines.append(f"    classDef {css} fill:{fill},stroke:{stroke},color:#111")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def to_dot(doc: GraphDocument, states: Mapping[str, str]) -> str:
    """A Graphviz ``digraph``: rounded boxes (filled by state), needs edges dashed, data edges labelled."""
    lines = [
        f'digraph "{_dot_text(doc.name)}" {{',
        '    graph [rankdir=TB, fontname="Helvetica"];',
        '    node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
        '    edge [fontname="Helvetica", fontsize=9, color="#666666"];',
    ]
    for task in doc.tasks:
        fill, stroke = state_colour(states.get(task.name))
        label = f"{task.name}\\n{task.kind}"
        if task.name in states:
            label += f"\\n{_dot_text(states[task.name])}"
        lines.append(f'    "{_dot_text(task.name)}" [label="{label}", fillcolor="{fill}", color="{stroke}"];')
    for edge in doc.edges:
        label = _via_label(edge)
        attrs = f'label="{_dot_text(label)}"' if label else "style=dashed"
        lines.append(f'    "{_dot_text(edge.from_)}" -> "{_dot_text(edge.to)}" [{attrs}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_json(doc: GraphDocument, states: Mapping[str, str]) -> str:
    """The document itself, indented; with states, each task gets its ``state``."""
    if states:
        doc = doc.model_copy(update={"tasks": [t.model_copy(update={"state": states.get(t.name)}) for t in doc.tasks]})
    return json.dumps(doc.to_dict(), indent=2, ensure_ascii=False) + "\n"
