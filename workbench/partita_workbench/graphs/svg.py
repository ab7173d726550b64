"""SVG drawings of a graph document.

With Graphviz installed (``dot`` on ``PATH``) the DOT text of
:func:`~.render.to_dot` is laid out by ``dot -Tsvg``. Without it, a layered
layout is computed here (the Sugiyama scheme in its simplest form): each task
on the layer one below its lowest upstream, tasks in a layer ordered by the
mean position of their upstream tasks (one downward sweep), boxes sized to
their text, edges drawn as cubic curves from the bottom of one box to the
top of the next.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from xml.sax.saxutils import escape, quoteattr

from partita_workbench.graphs.model import GraphDocument
from partita_workbench.graphs.styles import layers, state_colour

__all__ = ["to_svg", "layout_svg", "graphviz_svg"]

_CHAR_WIDTH = 7.2  # px per character at font-size 12 (Helvetica-like average)
_BOX_HEIGHT = 44
_H_GAP = 28
_V_GAP = 56
_MARGIN = 20


def to_svg(doc: GraphDocument, states: Mapping[str, str]) -> str:
    """The SVG drawing: Graphviz's when ``dot`` is installed, else :func:`layout_svg`."""
    if shutil.which("dot"):
        drawn = graphviz_svg(doc, states)
        if drawn is not None:
            return drawn
    return layout_svg(doc, states)


def graphviz_svg(doc: GraphDocument, states: Mapping[str, str]) -> str | None:
    """``dot -Tsvg`` of the DOT text; ``None`` when Graphviz fails (the caller falls back)."""
    from partita_workbench.graphs.render import to_dot

    try:
        done = subprocess.run(["dot", "-Tsvg"], input=to_dot(doc, states), capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 and "<svg" in done.stdout else None


def _order_layers(rows: list[list[str]], edges: list[tuple[str, str]]) -> list[list[str]]:
    """Order each layer by the mean index of its tasks' upstream tasks in the layer above (ties: definition order)."""
    position: dict[str, float] = {name: float(i) for i, name in enumerate(rows[0])} if rows else {}
    ordered = [rows[0]] if rows else []
    for row in rows[1:]:
        def barycentre(name: str, index: int) -> tuple[float, int]:
            ups = [position[a] for a, b in edges if b == name and a in position]
            return (sum(ups) / len(ups) if ups else float(index), index)

        row = [name for _, name in sorted((barycentre(n, i), n) for i, n in enumerate(row))]
        position.update({name: float(i) for i, name in enumerate(row)})
        ordered.append(row)
    return ordered


def layout_svg(doc: GraphDocument, states: Mapping[str, str]) -> str:
    """A layered drawing made without Graphviz (see the module docstring)."""
    kinds = {t.name: t.kind for t in doc.tasks}
    pairs = [(e.from_, e.to) for e in doc.edges if e.from_ in kinds and e.to in kinds]
    needs_only = {(e.from_, e.to) for e in doc.edges if all(v.kind == "needs" for v in e.via)}
    rows = _order_layers(layers(doc.task_names(), pairs), pairs)

    def label(name: str) -> list[str]:
        lines = [name, kinds[name]]
        if name in states:
            lines.append(states[name])
        return lines

    width = {n: max(96.0, max(len(line) for line in label(n)) * _CHAR_WIDTH + 24) for n in kinds}
    height = {n: _BOX_HEIGHT + (14 if n in states else 0) for n in kinds}
    row_widths = [sum(width[n] for n in row) + _H_GAP * (len(row) - 1) for row in rows]
    canvas_width = max(row_widths, default=0) + 2 * _MARGIN
    boxes: dict[str, tuple[float, float]] = {}  # top-left corner
    y = float(_MARGIN)
    for row, row_width in zip(rows, row_widths):
        x = _MARGIN + (canvas_width - 2 * _MARGIN - row_width) / 2
        tallest = max(height[n] for n in row)
        for name in row:
            boxes[name] = (x, y)
            x += width[name] + _H_GAP
        y += tallest + _V_GAP
    canvas_height = (y - _V_GAP + _MARGIN) if rows else 2 * _MARGIN

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{canvas_width:.0f}" height="{canvas_height:.0f}" '
        f'viewBox="0 0 {canvas_width:.0f} {canvas_height:.0f}" font-family="Helvetica, Arial, sans-serif">',
        f"<title>{escape(doc.name)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#666666"/></marker></defs>',
    ]
    for a, b in pairs:
        (ax, ay), (bx, by) = boxes[a], boxes[b]
        x1, y1 = ax + width[a] / 2, ay + height[a]
        x2, y2 = bx + width[b] / 2, by
        bend = max(24.0, (y2 - y1) / 2)
        dash = ' stroke-dasharray="5 4"' if (a, b) in needs_only else ""
        out.append(
            f'<path class="edge" data-from={quoteattr(a)} data-to={quoteattr(b)} '
            f'd="M {x1:.1f} {y1:.1f} C {x1:.1f} {y1 + bend:.1f}, {x2:.1f} {y2 - bend:.1f}, {x2:.1f} {y2:.1f}" '
            f'fill="none" stroke="#666666" stroke-width="1.3"{dash} marker-end="url(#arrow)"/>'
        )
    for name, (x, y) in boxes.items():
        fill, stroke = state_colour(states.get(name))
        out.append(f'<g class="task" data-name={quoteattr(name)}>')
        out.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{width[name]:.1f}" height="{height[name]:.1f}" rx="8" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>'
        )
        for i, line in enumerate(label(name)):
            size, weight = (12, ' font-weight="bold"') if i == 0 else (10, "")
            out.append(
                f'<text x="{x + width[name] / 2:.1f}" y="{y + 18 + 14 * i:.1f}" font-size="{size}"{weight} '
                f'text-anchor="middle" fill="#111111">{escape(line)}</text>'
            )
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
