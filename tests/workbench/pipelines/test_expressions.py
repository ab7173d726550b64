"""``${{ ... }}`` expressions: analysis without evaluation, sandboxed evaluation, rendering."""

from __future__ import annotations

import datetime as dt
import shlex

import pytest

from partita_workbench.pipelines.expressions import (
    ExpressionError,
    Reference,
    SandboxedNativeEnvironment,
    analyze,
    evaluate,
    find_expressions,
    format_value,
    render,
    whole_expression,
)


def ns(params=None, tasks=None, **more):
    return {"params": params or {}, "tasks": {k: {"result": v} for k, v in (tasks or {}).items()}, **more}


def test_find_expressions_with_or_without_spaces():
    text = "${{params.a}} and ${{ tasks.load-data.result }} and ${{  params.b_2  }}"
    assert find_expressions(text) == ["params.a", "tasks.load-data.result", "params.b_2"]
    assert whole_expression("  ${{ params.a }} ") == "params.a"
    assert whole_expression("${{ params.a }} ${{ params.b }}") is None


@pytest.mark.parametrize(
    ("expression", "references"),
    [
        ("params.a", [Reference("params", "a")]),
        ("tasks.load-data.result", [Reference("tasks", "load-data")]),
        ("tasks.load.result.rows[0]['x']", [Reference("tasks", "load")]),
        ("tasks['by-file'].result", [Reference("tasks", "by-file")]),
        ("tasks.by-file.result + params.n", [Reference("tasks", "by-file"), Reference("params", "n")]),
        ("item.name | upper", [Reference("item", "")]),
        ("env.HOME | default('/')", [Reference("env", "HOME")]),
        ("run.id ~ '-' ~ (run.scheduled_start | date('%Y'))", [Reference("run", "id"), Reference("run", "scheduled_start")]),
        ("params.n > 2 and not params.flag", [Reference("params", "n"), Reference("params", "flag")]),
    ],
)
def test_analysis_finds_references_in_order(expression, references):
    analysis = analyze(expression)
    assert analysis.problems == ()
    assert list(analysis.references) == references


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("params.n +", "invalid expression: unexpected 'end of print statement'"),
        ("parms.n", "unknown name 'parms'; an expression starts from params, tasks, item, env or run; did you mean 'params'?"),
        ("__import__('os')", "unknown name '__import__'; an expression starts from params, tasks, item, env or run"),
        ("params", "write params.NAME to use a parameter"),
        ("tasks.a", "write tasks.a.result to use the result of task 'a'"),
        ("tasks.a.output", "write tasks.a.result to use the result of task 'a'"),
        ("run.started", "unknown run field 'started'; use run.id or run.scheduled_start"),
        ("params.d | dat('%Y')", "unknown filter 'dat'; did you mean 'date'?"),
        ("", "empty expression"),
    ],
)
def test_analysis_reports_problems_without_evaluating(expression, problem):
    assert problem in analyze(expression).problems


def test_the_environment_is_jinja2s_sandbox_with_native_values():
    from jinja2.nativetypes import NativeEnvironment
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    assert issubclass(SandboxedNativeEnvironment, ImmutableSandboxedEnvironment)
    assert issubclass(SandboxedNativeEnvironment, NativeEnvironment)


def test_whole_string_expression_keeps_the_type():
    assert render("${{ params.n }}", ns({"n": 3})) == 3
    assert render("  ${{ tasks.t.result }} ", ns(tasks={"t": [1, {"a": None}]})) == [1, {"a": None}]
    assert render("${{ params.xs | join(',') }}", ns({"xs": ["a", "b"]})) == "a,b"
    assert render("${{ tasks.t.result.rows[1]['v'] }}", ns(tasks={"t": {"rows": [{"v": 1}, {"v": 2.5}]}})) == 2.5


def test_attribute_access_into_an_object_result():
    class Report:
        def __init__(self):
            self.count = 7

    assert render("${{ tasks.r.result.count * 2 }}", ns(tasks={"r": Report()})) == 14


def test_filters_default_json_join_date():
    namespace = ns({"d": dt.date(2024, 5, 1), "s": "2024-05-01T10:30:00", "xs": [1, 2], "o": {"k": "é"}}, tasks={"t": {}})
    assert evaluate("tasks.t.result.missing | default(3)", namespace) == 3
    assert evaluate("params.o | json", namespace) == '{"k": "é"}'
    assert evaluate("params.xs | join('+')", namespace) == "1+2"
    assert evaluate("params.d | date('%d %b %Y')", namespace) == "01 May 2024"
    assert evaluate("params.s | date('%H:%M')", namespace) == "10:30"
    assert evaluate("params.d | date", namespace) == "2024-05-01"


def test_item_env_and_run():
    start = dt.datetime(2024, 5, 1, 6, 0, tzinfo=dt.timezone.utc)
    namespace = ns(item={"name": "x"}, env={"HOME": "/h"}, run={"id": "abc", "scheduled_start": start})
    assert render("${{ item.name }}-${{ env.HOME }}-${{ run.id }}", namespace) == "x-/h-abc"
    assert render("${{ run.scheduled_start }}", namespace) == start
    assert render("${{ run.scheduled_start | date('%Y%m%d') }}", namespace) == "20240501"


def test_hyphenated_task_keys():
    assert render("${{ tasks.by-file.result + 1 }}", ns(tasks={"by-file": 1})) == 2


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("params.missing", "cannot evaluate '${{ params.missing }}': it is undefined; add '| default(...)'"),
        ("tasks.t.result[5]", "cannot evaluate '${{ tasks.t.result[5] }}': it is undefined"),
        ("tasks.t.result[5] + 1", "cannot evaluate '${{ tasks.t.result[5] + 1 }}': UndefinedError"),
        ("params.n.__class__", "cannot evaluate '${{ params.n.__class__ }}'"),
        ("params.xs.append(3)", "cannot evaluate '${{ params.xs.append(3) }}': SecurityError"),
        ("params.n / 0", "cannot evaluate '${{ params.n / 0 }}': ZeroDivisionError"),
    ],
)
def test_evaluation_errors_name_the_expression(expression, message):
    with pytest.raises(ExpressionError) as caught:
        evaluate(expression, ns({"n": 1, "xs": [1]}, tasks={"t": [0]}))
    assert str(caught.value).startswith(message)


def test_embedded_expressions_are_formatted():
    params = {"n": 3, "x": 0.5, "on": True, "none": None, "items": [1, "a"], "s": "text", "d": dt.date(2024, 5, 1)}
    text = "${{ params.n }}/${{ params.x }}/${{ params.on }}/${{ params.none }}/${{ params.items }}/${{ params.s }}/${{ params.d }}"
    assert render(text, ns(params)) == '3/0.5/true/null/[1, "a"]/text/2024-05-01'


def test_render_walks_nested_values_without_changing_the_input():
    template = {"a": ["${{ params.n }}", {"b": "n=${{ params.n }}"}], "c": 1, "d": None}
    assert render(template, ns({"n": 2})) == {"a": [2, {"b": "n=2"}], "c": 1, "d": None}
    assert template["a"][0] == "${{ params.n }}"


def test_rendered_values_are_not_rendered_again():
    assert render("${{ params.a }}", ns({"a": "${{ params.b }}", "b": "secret"})) == "${{ params.b }}"


def test_quote_applies_to_every_inserted_value():
    assert render("echo ${{ params.a }}", ns({"a": "x; rm -rf /"}), quote=shlex.quote) == "echo 'x; rm -rf /'"
    assert render("${{ params.n }}", ns({"n": 3}), quote=shlex.quote) == "3"


def test_format_value():
    assert format_value("é") == "é"
    assert format_value(False) == "false"
    assert format_value({"k": "é"}) == '{"k": "é"}'
