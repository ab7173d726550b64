"""Round-trip editing: every edit changes only the lines of the node it touches.

The case files (``tests/data/cases``, copied from public projects) mix
indentation widths, use ``True``/``False``, whitespace-only lines, comments
inside nested mappings and a file without a final newline: ruamel.yaml's dumper
alone changes all of those. Each test checks two things: the edited document
holds the expected data, and every original line outside the touched node is
byte-identical (compared with difflib opcodes on the raw lines).
"""

from __future__ import annotations

import copy
import difflib
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from partita.exceptions import PipelineEditError
from partita_workbench.pipelines.edit import PipelineEditor
from partita_workbench.pipelines.ploomber.names import default_task_name
from partita_workbench.pipelines.yamlio import to_plain

DATA = Path(__file__).parents[2] / "data"
CASES = sorted(p for p in (DATA / "cases").rglob("*") if p.suffix in (".yaml", ".yml"))


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def assert_only_lines_changed(old: str, new: str, allowed: set[int]) -> None:
    """Original lines outside ``allowed`` (0-based) survive byte for byte, in order."""
    matcher = difflib.SequenceMatcher(a=_lines(old), b=_lines(new), autojunk=False)
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            touched = set(range(i1, i2))
            assert touched <= allowed, f"lines {sorted(touched - allowed)} changed outside {sorted(allowed)}:\n" + "".join(
                difflib.unified_diff(_lines(old), _lines(new))
            )


def plain(text: str):
    return to_plain(YAML(typ="rt").load(text))


def scalar_leaves(node, path=()):
    """(path, key node, value node) of every scalar value in a block mapping."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(value, ScalarNode) and not node.flow_style and value.style not in ("|", ">"):
                yield (*path, key.value), key, value
            yield from scalar_leaves(value, (*path, key.value))
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            yield from scalar_leaves(item, (*path, index))


def get(data, path):
    for step in path:
        data = data[step]
    return data


def test_case_files_are_all_here():
    assert len(CASES) == 9
    assert {p.parent.name for p in CASES} >= {"argo-workflows", "kedro-starters", "ploomber-tests-assets-nbs"}


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_load_and_save_is_byte_identical(case: Path, tmp_path: Path):
    target = tmp_path / case.name
    PipelineEditor.load(case).save(target)
    assert target.read_bytes() == case.read_bytes()


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_setting_each_scalar_changes_only_its_line(case: Path):
    text = case.read_text(encoding="utf-8")
    leaves = list(scalar_leaves(YAML(typ="rt").compose(text)))
    assert leaves
    for path, _key, value in leaves:
        editor = PipelineEditor.load(case)
        new_value = 12345 if value.tag.endswith(":int") else "edited value"
        editor.set(path, new_value)
        expected = copy.deepcopy(plain(text))
        parent = get(expected, path[:-1])
        parent[path[-1]] = new_value
        assert plain(editor.text) == expected, path
        assert_only_lines_changed(text, editor.text, {value.start_mark.line})


def first_mapping_with_siblings(node, path=()):
    """The first block mapping (breadth-first) with two or more keys, and its path."""
    queue = [(node, path)]
    while queue:
        current, where = queue.pop(0)
        if isinstance(current, MappingNode) and not current.flow_style:
            if len(current.value) >= 2:
                return current, where
            queue.extend((value, (*where, key.value)) for key, value in current.value)
        elif isinstance(current, SequenceNode):
            queue.extend((item, (*where, i)) for i, item in enumerate(current.value))
    return None, None


WITH_SIBLINGS = [c for c in CASES if first_mapping_with_siblings(YAML(typ="rt").compose(c.read_text()))[0] is not None]


def test_all_but_the_one_key_env_file_have_sibling_keys():
    assert [c.name for c in CASES if c not in WITH_SIBLINGS] == ["env.yaml"]


@pytest.mark.parametrize("case", WITH_SIBLINGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_unsetting_each_key_removes_only_its_lines(case: Path):
    text = case.read_text(encoding="utf-8")
    mapping, where = first_mapping_with_siblings(YAML(typ="rt").compose(text))
    starts = [key.start_mark.line for key, _ in mapping.value] + [len(_lines(text))]
    for index, (key, _value) in enumerate(mapping.value):
        editor = PipelineEditor.load(case)
        editor.unset([*where, key.value])
        expected = plain(text)
        del get(expected, where)[key.value]
        assert plain(editor.text) == expected
        # its own lines, and the blank/comment lines up to the next key; after a
        # "- " the next key moves up onto the dash line
        after_dash = _lines(text)[key.start_mark.line][: key.start_mark.column].strip() == "-"
        allowed = set(range(starts[index] - 1, starts[index + 1] + (1 if after_dash else 0)))
        assert_only_lines_changed(text, editor.text, allowed)


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_adding_a_key_only_inserts(case: Path):
    text = case.read_text(encoding="utf-8")
    editor = PipelineEditor.load(case)
    root = YAML(typ="rt").compose(text)
    if isinstance(root, MappingNode):
        editor.set(["x_partita"], {"owner": "data team", "tags": ["a", "b"], "nested": {"n": 1}})
        expected = plain(text)
        expected["x_partita"] = {"owner": "data team", "tags": ["a", "b"], "nested": {"n": 1}}
    else:
        pytest.skip("not a mapping")
    assert plain(editor.text) == expected
    # the last line may gain the newline it lacked; nothing else changes
    last = len(_lines(text)) - 1
    assert_only_lines_changed(text, editor.text, {last} if not text.endswith("\n") else set())


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_adding_then_removing_a_key_restores_the_file(case: Path):
    text = case.read_text(encoding="utf-8")
    editor = PipelineEditor.load(case)
    editor.set(["x_partita"], {"owner": "data team", "tags": ["a"]})
    editor.unset(["x_partita"])
    # byte-identical; a file whose last line held content gains the newline it lacked
    last_line = _lines(text)[-1]
    assert editor.text == (text + "\n" if not last_line.endswith("\n") and last_line.strip() else text)


def test_new_block_content_follows_the_file_indentation():
    editor = PipelineEditor.load(DATA / "cases/ploomber-projects-report-generation/pipeline.yaml")
    editor.set(("tasks", 0, "params"), {"a": 1, "b": [1, 2], "c": {"x": "y z"}})
    assert "      params:\n        a: 1\n        b: [1, 2]\n        c:\n          x: y z\n" in editor.text
    # inserted after the comment that belongs to "product:", before the whitespace-only line
    assert "list them here\n      params:\n" in editor.text


def test_booleans_keep_their_spelling():
    editor = PipelineEditor.load(DATA / "cases/ploomber-tests-assets-nbs/pipeline.yaml")
    editor.set("meta.extract_upstream", True)
    assert editor.text.startswith("meta:\n  extract_upstream: True\n  extract_product: False\n")


def test_quoted_strings_keep_their_quotes(tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text("name: 'single'\nother: \"double\"  # why\nplain: x\n")
    editor = PipelineEditor.load(path)
    editor.set("name", "it's")
    editor.set("other", "two words")
    editor.set("plain", "a: b")
    assert editor.text == "name: 'it''s'\nother: \"two words\"  # why\nplain: 'a: b'\n"


# -- tasks: Partita pipelines ---------------------------------------------------------------


def test_rename_task_rewrites_key_needs_and_references(pipelines_dir: Path):
    source = pipelines_dir / "references.yaml"
    text = source.read_text()
    editor = PipelineEditor.load(source)
    editor.rename_task("total", "sum")
    editor.rename_task("by-file", "byfile")
    new = editor.text
    assert "tasks.total" not in new and "tasks.by-file" not in new
    assert '        items: ["${{ tasks.sum.result }}", "${{ params.flags }}", plain]\n' in new
    assert "    shell: printf '%s|' ${{ params.label }} ${{ tasks.sum.result }}\n" in new
    assert "  sum:\n    python: pipeline_steps:total\n" in new
    assert "      x: ${{ tasks.byfile.result }}\n" in new
    changed = {i for i, line in enumerate(_lines(text)) if "total" in line and "pipeline_steps" not in line or "by-file" in line}
    assert_only_lines_changed(text, new, changed)


def test_rename_does_not_touch_a_task_whose_name_extends_the_old_one(tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text(
        "name: p\ntasks:\n  by:\n    shell: echo 1\n  by-file:\n    shell: echo ${{ tasks.by.result }} ${{ tasks.by-file.result }}\n    needs: [by]\n"
    )
    editor = PipelineEditor.load(path)
    editor.rename_task("by", "first")
    assert editor.text == (
        "name: p\ntasks:\n  first:\n    shell: echo 1\n  by-file:\n"
        "    shell: echo ${{ tasks.first.result }} ${{ tasks.by-file.result }}\n    needs: [first]\n"
    )


def test_add_remove_task_and_dependency(tmp_path: Path):
    path = tmp_path / "p.yaml"
    original = (
        "# a pipeline\n"
        "name: p\n"
        "tasks:\n"
        "  a:\n"
        "    shell: echo a   # first\n"
        "\n"
        "  b:\n"
        "    shell: echo b\n"
        "    needs:\n"
        "      - a\n"
        "\n"
        "  # the last one\n"
        "  c:\n"
        "    shell: echo c\n"
    )
    path.write_text(original)
    editor = PipelineEditor.load(path)
    editor.add_task("d", {"python": "steps:d", "with": {"x": 1}, "needs": ["c"]})
    editor.add_dependency("c", "a")
    editor.add_dependency("b", "c")
    editor.add_dependency("b", "c")  # already there: no change
    assert "    needs:\n      - a\n      - c\n" in editor.text
    assert "    shell: echo c\n    needs: [a]\n  d:\n    python: steps:d\n    with:\n      x: 1\n    needs: [c]\n" in editor.text
    editor.remove_task("a")
    assert editor.text == (
        "# a pipeline\n"
        "name: p\n"
        "tasks:\n"
        "  b:\n"
        "    shell: echo b\n"
        "    needs:\n"
        "      - c\n"
        "\n"
        "  # the last one\n"
        "  c:\n"
        "    shell: echo c\n"
        "  d:\n"
        "    python: steps:d\n"
        "    with:\n"
        "      x: 1\n"
        "    needs: [c]\n"
    )
    editor.save()
    assert path.read_text() == editor.text


def test_remove_task_refuses_while_its_result_is_used(pipelines_dir: Path):
    editor = PipelineEditor.load(pipelines_dir / "references.yaml")
    before = editor.text
    with pytest.raises(PipelineEditError) as info:
        editor.remove_task("numbers")
    assert str(info.value) == (
        f"{pipelines_dir / 'references.yaml'}:12:21: cannot remove task 'numbers': "
        "task 'describe' uses its result; change that reference first"
    )
    assert editor.text == before


def test_errors_name_the_place(pipelines_dir: Path, tmp_path: Path):
    editor = PipelineEditor.load(pipelines_dir / "references.yaml")
    with pytest.raises(PipelineEditError, match=r"references.yaml:8:3: no task 'totl'; did you mean 'total'\?"):
        editor.rename_task("totl", "x")
    with pytest.raises(PipelineEditError, match=r"references.yaml:8:3: task 'total' already exists"):
        editor.rename_task("numbers", "total")
    with pytest.raises(PipelineEditError, match=r"references.yaml:3:3: parameters.colour does not exist"):
        editor.unset("parameters.colour.type")
    bad = tmp_path / "bad.yaml"
    bad.write_text("tasks:\n  a: [1, 2\n")
    with pytest.raises(PipelineEditError, match=r"bad.yaml:3:1: invalid YAML"):
        PipelineEditor.load(bad)


def test_unset_the_only_entry_leaves_an_empty_mapping(tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text("name: p\nenv:\n  A: 1\ntasks:\n  a: {shell: echo}\n")
    editor = PipelineEditor.load(path)
    editor.unset("env.A")
    editor.set("tasks.a.retries", 2)
    assert editor.text == "name: p\nenv: {}\ntasks:\n  a: {shell: echo, retries: 2}\n"


# -- tasks: Ploomber specs ------------------------------------------------------------------


def test_ploomber_spec_tasks(tmp_path: Path):
    source = DATA / "cases/ploomber-tests-assets-nbs/pipeline.yaml"
    text = source.read_text()
    editor = PipelineEditor.load(source)
    assert editor.task_names() == ["load", "clean", "plot"]
    editor.rename_task("clean", "tidy")
    assert "    name: tidy\n" in editor.text and "    upstream: tidy\n" in editor.text
    assert_only_lines_changed(text, editor.text, {14, 24})
    editor.add_dependency("plot", "load")
    assert "    upstream: [tidy, load]\n" in editor.text
    editor.remove_task("load")
    assert editor.task_names() == ["tidy", "plot"]
    assert editor.text == (
        "meta:\n  extract_upstream: False\n  extract_product: False\n\ntasks:\n"
        "  - source: clean.py\n    class: NotebookRunner\n    name: tidy\n    product:\n"
        "      nb: output/clean.ipynb\n      data: output/clean.csv\n  \n"
        "  - source: plot.py\n    class: NotebookRunner\n    name: plot\n"
        "    product: output/plot.ipynb\n    upstream: [tidy]"
        + ("\n" if text.endswith("\n") else "")
    )


def test_ploomber_names_come_from_sources():
    editor = PipelineEditor.load(DATA / "cases/ploomber-tests-assets-nbs/pipeline.extract-upstream.yaml")
    assert editor.task_names() == ["load", "clean", "plot"]
    editor.rename_task("plot", "chart")  # no name: key yet: one is added
    assert "  - source: plot.py\n    product: output/plot.ipynb\n    name: chart\n" in editor.text
    assert default_task_name("functions.get_raw_data") == "get_raw_data"
    assert default_task_name("tasks/script.py") == "script"
