"""``${{ params.NAME }}`` / ``${{ tasks.NAME.result }}`` parsing and rendering."""

from __future__ import annotations

import shlex

import pytest

from partita_workbench.pipelines.references import (
    Reference,
    UnsupportedExpression,
    format_value,
    parse_references,
    render,
    scan_references,
)


def test_parse_both_forms_with_or_without_spaces():
    text = "${{params.a}} and ${{ tasks.load-data.result }} and ${{  params.b_2  }}"
    assert parse_references(text) == [
        Reference("params", "a"),
        Reference("tasks", "load-data"),
        Reference("params", "b_2"),
    ]


@pytest.mark.parametrize(
    "expression",
    ["params", "params.a.b", "tasks.a", "tasks.a.output", "env.HOME", "params.a + 1", "__import__('os')", ""],
)
def test_other_expressions_are_rejected_not_evaluated(expression):
    with pytest.raises(UnsupportedExpression, match="only '\\$\\{\\{ params.NAME \\}\\}'"):
        parse_references(f"x ${{{{ {expression} }}}}")


def test_scan_keeps_going_after_a_bad_expression():
    found = list(scan_references("${{ nope }} ${{ params.a }}"))
    assert isinstance(found[0], UnsupportedExpression)
    assert found[1] == Reference("params", "a")


def test_whole_string_reference_keeps_the_type():
    assert render("${{ params.n }}", {"n": 3}, {}) == 3
    assert render("  ${{ tasks.t.result }} ", {}, {"t": [1, {"a": None}]}) == [1, {"a": None}]


def test_embedded_references_are_formatted():
    params = {"n": 3, "x": 0.5, "on": True, "none": None, "items": [1, "a"], "s": "text"}
    text = "${{ params.n }}/${{ params.x }}/${{ params.on }}/${{ params.none }}/${{ params.items }}/${{ params.s }}"
    assert render(text, params, {}) == '3/0.5/true/null/[1, "a"]/text'


def test_render_walks_nested_values_without_changing_the_input():
    template = {"a": ["${{ params.n }}", {"b": "n=${{ params.n }}"}], "c": 1, "d": None}
    assert render(template, {"n": 2}, {}) == {"a": [2, {"b": "n=2"}], "c": 1, "d": None}
    assert template["a"][0] == "${{ params.n }}"


def test_rendered_values_are_not_rendered_again():
    assert render("${{ params.a }}", {"a": "${{ params.b }}", "b": "secret"}, {}) == "${{ params.b }}"


def test_quote_applies_to_every_inserted_value():
    assert render("echo ${{ params.a }}", {"a": "x; rm -rf /"}, {}, quote=shlex.quote) == "echo 'x; rm -rf /'"
    assert render("${{ params.n }}", {"n": 3}, {}, quote=shlex.quote) == "3"


def test_format_value():
    assert format_value("é") == "é"
    assert format_value(False) == "false"
    assert format_value({"k": "é"}) == '{"k": "é"}'
