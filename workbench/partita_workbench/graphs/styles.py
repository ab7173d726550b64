"""Colours of task states, shared by the renderers (the CLI's palette: green done, red failed...)."""

from __future__ import annotations

__all__ = ["STATE_COLOURS", "state_colour", "order", "layers"]

STATE_COLOURS: dict[str, tuple[str, str]] = {
    "completed": ("#d3f0d8", "#1e7b34"),
    "cached": ("#d8ecf3", "#1f6f8b"),
    "skipped": ("#eeeeee", "#6b6b6b"),
    "failed": ("#f8d3d3", "#b02020"),
    "timedout": ("#f8d3d3", "#b02020"),
    "crashed": ("#f2b8b8", "#7a0f0f"),
    "running": ("#d6e4fb", "#1f4fb0"),
    "retrying": ("#d6e4fb", "#1f4fb0"),
    "pending": ("#fbf1cc", "#8a6d00"),
    "scheduled": ("#fbf1cc", "#8a6d00"),
    "late": ("#fbf1cc", "#8a6d00"),
    "awaitingretry": ("#fbf1cc", "#8a6d00"),
    "notready": ("#eeeeee", "#6b6b6b"),
    "cancelled": ("#e4e4e4", "#555555"),
    "cancelling": ("#e4e4e4", "#555555"),
    "paused": ("#ecd9f6", "#6b2f8a"),
}
"""State name (lower case, no spaces) → ``(fill, stroke)``."""

_NO_STATE = ("#ffffff", "#444444")


def state_colour(state: str | None) -> tuple[str, str]:
    """``(fill, stroke)`` for a state name such as ``"Completed"`` or ``"NotReady"``; white when unknown or none."""
    if not state:
        return _NO_STATE
    return STATE_COLOURS.get(state.replace(" ", "").lower(), _NO_STATE)


def order(names: list[str], edges: list[tuple[str, str]]) -> list[str]:
    """Task names in a topological order, ties in definition order (a cycle's members keep their order)."""
    upstream = {n: {a for a, b in edges if b == n and a in names} for n in names}
    done: list[str] = []
    remaining = list(names)
    while remaining:
        ready = [n for n in remaining if upstream[n] <= set(done)] or remaining[:1]
        done.extend(ready)
        remaining = [n for n in remaining if n not in ready]
    return done


def layers(names: list[str], edges: list[tuple[str, str]]) -> list[list[str]]:
    """Nodes by layer: a task sits one layer below its lowest upstream (longest path from a source)."""
    depth: dict[str, int] = {}
    for name in order(names, edges):
        ups = [depth[a] for a, b in edges if b == name and a in depth]
        depth[name] = max(ups) + 1 if ups else 0
    out: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for name in names:
        out[depth[name]].append(name)
    return out
