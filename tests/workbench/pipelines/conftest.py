"""Fixtures for the YAML pipeline tests (PARTITA_HOME isolation comes from tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parents[2] / "data"


@pytest.fixture
def pipelines_dir() -> Path:
    """``tests/data/pipelines``: runnable test pipelines; ``invalid/`` holds one file per error kind."""
    return DATA / "pipelines"


@pytest.fixture
def quickstart_dir() -> Path:
    return Path(__file__).parents[3] / "notebooks" / "quickstart"


@pytest.fixture
def task_run_states(client):
    """``fn(flow_run_state)`` → {task run name: (final state name, message)}, read from the backend."""

    def read(state) -> dict[str, tuple[str, str | None]]:
        out = {}
        for run in client.read_task_runs(state.state_details["flow_run_id"]):
            final = client.read_task_run_states(run.id)[-1]
            out[run.name] = (final.name, final.message)
        return out

    return read
