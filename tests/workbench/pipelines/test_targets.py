"""A missing name in a ``python:`` task target or a ``partita run file.py:NAME`` target."""

from __future__ import annotations

from pathlib import Path

import pytest

from partita.exceptions import InvalidTarget
from partita_workbench.pipelines.targets import resolve_callable
from support.cli import run_cli

FLOWS = """\
from partita import flow, task


@task
def helper(x):
    return x


@flow
def numbers():
    return [1, 2]


@flow
def hello():
    return "hi"


def add(a, b):
    return a + b
"""


@pytest.fixture
def flows_file(tmp_path: Path) -> Path:
    path = tmp_path / "targets_demo_flows.py"  # a name no other test imports
    path.write_text(FLOWS)
    return path


def _message(reference: str, folder: Path, **kwargs) -> str:
    with pytest.raises(InvalidTarget) as raised:
        resolve_callable(reference, folder, **kwargs)
    return str(raised.value)


def test_a_missing_flow_lists_the_flows_of_the_file(flows_file: Path) -> None:
    folder = flows_file.parent
    assert _message(f"{flows_file}:nope", folder, kind="flow") == f"'{flows_file}' has no flow 'nope'; flows in it: hello, numbers"
    assert _message(f"{flows_file}:helo", folder, kind="flow") == (
        f"'{flows_file}' has no flow 'helo'; flows in it: hello, numbers; did you mean 'hello'?"
    )
    assert _message("targets_demo_flows.py:nope", folder, kind="flow") == (
        "'targets_demo_flows.py' has no flow 'nope'; flows in it: hello, numbers"
    )


def test_a_file_without_flows_says_so(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text("def add(a, b):\n    return a + b\n")
    assert _message(f"{tmp_path / 'plain.py'}:main", tmp_path, kind="flow") == (
        f"'{tmp_path / 'plain.py'}' has no flow 'main' and defines no flows; decorate a function in it with @flow"
    )


def test_a_missing_function_of_a_python_task_is_still_a_missing_attribute(flows_file: Path) -> None:
    folder = flows_file.parent
    assert _message("targets_demo_flows.py:ad", folder) == "'targets_demo_flows.py' has no attribute 'ad'; did you mean 'add'?"
    assert _message("targets_demo_flows:nope", folder) == "'targets_demo_flows' has no attribute 'nope'"
    assert _message(f"{flows_file}:ad", folder) == f"'{flows_file}' has no attribute 'ad'; did you mean 'add'?"  # by its absolute path too
    assert resolve_callable("targets_demo_flows.py:add", folder)(1, 2) == 3


def test_partita_run_with_a_missing_flow(flows_file: Path, tmp_path: Path) -> None:
    result = run_cli("run", f"{flows_file}:nope", env={"PARTITA_HOME": str(tmp_path / "home")}, timeout=60)
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip() == f"Error: '{flows_file}' has no flow 'nope'; flows in it: hello, numbers"
