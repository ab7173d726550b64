"""Fixtures for the notebook tests (PARTITA_HOME isolation comes from tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def notebooks_dir() -> Path:
    """``tests/data/notebooks``: real notebooks (see tests/data/SOURCES.md) and our ``divide.ipynb``."""
    return Path(__file__).parents[2] / "data" / "notebooks"
