"""The task graph of a pipeline: dependencies, a topological order, cycles.

Pure functions over ``{task: set of tasks it depends on}``; they know nothing
of YAML.
"""

from __future__ import annotations

from collections.abc import Mapping, Set

__all__ = ["topological_order", "find_cycles"]


def topological_order(dependencies: Mapping[str, Set[str]]) -> list[str]:
    """Tasks ordered so each comes after everything it depends on.

    Ties keep the order of ``dependencies`` (the order of the YAML file), so
    the result is deterministic.

    Raises:
        ValueError: the graph has a cycle (see :func:`find_cycles`).
    """
    order: list[str] = []
    done: set[str] = set()
    remaining = list(dependencies)
    while remaining:
        ready = [t for t in remaining if dependencies[t] <= done]
        if not ready:
            raise ValueError(f"dependency cycle among {', '.join(remaining)}")
        order.extend(ready)
        done.update(ready)
        remaining = [t for t in remaining if t not in done]
    return order


def find_cycles(dependencies: Mapping[str, Set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component that has one.

    Args:
        dependencies: ``{task: tasks it depends on}``; names not among the keys
            are ignored.

    Returns:
        Cycles as task lists that end where they start, e.g. ``["a", "b",
        "a"]`` meaning a needs b and b needs a; a task depending on itself
        gives ``["a", "a"]``. Components and the tasks inside each start in
        the order of ``dependencies``.
    """
    position = {t: i for i, t in enumerate(dependencies)}
    edges = {t: sorted((d for d in deps if d in position), key=position.__getitem__) for t, deps in dependencies.items()}
    cycles = []
    for component in _components(edges):
        start = min(component, key=position.__getitem__)
        if len(component) == 1 and start not in edges[start]:
            continue
        cycles.append(_cycle_from(start, edges, component))
    cycles.sort(key=lambda c: position[c[0]])
    return cycles


def _components(edges: Mapping[str, list[str]]) -> list[set[str]]:
    """Strongly connected components (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def _cycle_from(start: str, edges: Mapping[str, list[str]], component: set[str]) -> list[str]:
    """A path start → ... → start inside one component (breadth-first, so shortest)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in edges[node]:
                if child not in component:
                    continue
                if child == start:  # walk back from node to start, then close the loop
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return [start, start]
