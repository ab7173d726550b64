"""Topological order and cycle detection of the task graph."""

from __future__ import annotations

import pytest

from partita_workbench.pipelines.graph import find_cycles, topological_order


def test_order_puts_dependencies_first_and_keeps_file_order_for_ties():
    deps = {"report": {"clean"}, "extract": set(), "clean": {"extract"}, "notify": set()}
    assert topological_order(deps) == ["extract", "notify", "clean", "report"]


def test_order_refuses_a_cycle():
    with pytest.raises(ValueError, match="cycle"):
        topological_order({"a": {"b"}, "b": {"a"}})


def test_cycles_are_found_per_component_starting_in_file_order():
    deps = {"x": set(), "a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}, "e": {"a"}, "f": {"g"}, "g": {"f"}}
    assert find_cycles(deps) == [["a", "b", "c", "a"], ["d", "d"], ["f", "g", "f"]]


def test_shortest_cycle_is_named():
    deps = {"a": {"b", "c"}, "b": {"c"}, "c": {"a"}}
    assert find_cycles(deps) == [["a", "c", "a"]]


def test_no_cycles():
    assert find_cycles({"a": set(), "b": {"a"}, "c": {"a", "b", "unknown"}}) == []
