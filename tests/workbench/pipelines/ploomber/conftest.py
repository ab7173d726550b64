"""Fixtures for the Ploomber tests: a copy of a project under tmp_path, so products land there."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

PLOOMBER = Path(__file__).parents[3] / "data" / "ploomber"
CASES = Path(__file__).parents[3] / "data" / "cases"


@pytest.fixture
def project(tmp_path: Path):
    """``fn(name)`` → the folder of a copy of ``tests/data/ploomber/<name>``."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(PLOOMBER / name, target)
        return target

    return copy


@pytest.fixture
def task_run_details(client):
    """``fn(flow_run_state)`` → {task run name: (state name, cache miss reason)}, read from the backend."""

    def read(state) -> dict[str, tuple[str, str | None]]:
        out = {}
        for run in client.read_task_runs(state.state_details["flow_run_id"]):
            final = client.read_task_run_states(run.id)[-1]
            out[run.name] = (final.name, final.state_details.get("cache_miss_reason"))
        return out

    return read
