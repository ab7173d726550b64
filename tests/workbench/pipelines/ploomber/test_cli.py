"""``partita run`` on a Ploomber ``pipeline.yaml``, through the real console script."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from support.cli import run_cli

PLOOMBER = Path(__file__).parents[3] / "data" / "ploomber"

pytestmark = pytest.mark.timeout(300)


def _rows(stdout: str) -> dict[str, str]:
    """Task → state from the summary table."""
    rows = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.split("│")]
        if len(cells) > 3 and cells[1] in ("load", "clean", "report"):
            rows[cells[1]] = cells[2]
    return rows


def test_partita_run_runs_a_ploomber_project_then_caches_it(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(PLOOMBER / "basic", project)
    env = {"PARTITA_HOME": str(tmp_path / "home")}

    first = run_cli("run", str(project / "pipeline.yaml"), env=env)
    assert first.returncode == 0, first.stderr
    assert _rows(first.stdout) == {"load": "Completed", "clean": "Completed", "report": "Completed"}
    assert "of flow project finished in state Completed" in first.stdout
    assert (project / "output" / "summary.json").is_file()

    second = run_cli("run", str(project / "pipeline.yaml"), env=env)
    assert second.returncode == 0, second.stderr
    assert _rows(second.stdout) == {"load": "Cached", "clean": "Cached", "report": "Cached"}


def test_partita_run_refuses_an_invalid_ploomber_spec_and_records_nothing(tmp_path):
    env = {"PARTITA_HOME": str(tmp_path / "home")}
    result = run_cli("run", "graph.yaml", env=env, cwd=PLOOMBER / "invalid")
    assert result.returncode == 2
    report = result.stdout + result.stderr
    assert "graph.yaml:2:5: dependency cycle: cycle_a -> cycle_b -> cycle_a" in report
    assert "graph.yaml:8:5: duplicate task name 'ok'" in report
    listing = run_cli("flow-run", "ls", env=env)
    assert "graph" not in listing.stdout and "invalid" not in listing.stdout


def test_partita_validate_checks_ploomber_specs(tmp_path):
    invalid = PLOOMBER / "invalid"
    result = run_cli("validate", "graph.yaml", str(PLOOMBER / "basic" / "pipeline.yaml"), cwd=invalid)
    assert result.returncode == 2
    assert [line for line in result.stdout.splitlines() if line.startswith("graph.yaml")] == [
        "graph.yaml:2:5: dependency cycle: cycle_a -> cycle_b -> cycle_a (each task uses the next one's products)",
        "graph.yaml:8:5: duplicate task name 'ok' (first at line 6); give each task its own 'name:'",
    ]
    assert "2 problems in 1 of 2 files" in result.stderr
    valid = run_cli("validate", str(PLOOMBER / "basic" / "pipeline.yaml"))
    assert valid.returncode == 0 and "1 file valid" in valid.stderr


def test_partita_run_takes_env_yaml_values_as_parameters(tmp_path):
    project = tmp_path / "grid"
    shutil.copytree(PLOOMBER / "grid", project)
    result = run_cli("run", str(project / "pipeline.yaml"), "-p", "title=Totals", env={"PARTITA_HOME": str(tmp_path / "home")})
    assert result.returncode == 0, result.stderr
    assert (project / "out" / "combined.txt").read_text() == "Totals: 1 4 9 | 8 27\n"
