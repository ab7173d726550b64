"""Counting what a run left in a system's SQLite database, with the stdlib ``sqlite3``.

Both systems use the same table names: ``flow_run``, ``task_run`` and
``task_run_state`` (a row per state a task run went through). A cache hit is
a task-run state named ``Cached``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

# key -> (table, query)
_QUERIES = {
    "flow_runs": ("flow_run", "SELECT count(*) FROM flow_run"),
    "task_runs": ("task_run", "SELECT count(*) FROM task_run"),
    "task_run_states": ("task_run_state", "SELECT count(*) FROM task_run_state"),
    "cached_states": ("task_run_state", "SELECT count(*) FROM task_run_state WHERE name = 'Cached'"),
}


def count_runs(database: Path) -> dict[str, int] | None:
    """Row counts of ``database``, or ``None`` if the file does not exist.

    A missing table counts as 0 rows (a run that died before its schema was made).
    """
    if not database.exists():
        return None
    connection = sqlite3.connect(database, timeout=30)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {
            key: connection.execute(query).fetchone()[0] if table in tables else 0
            for key, (table, query) in _QUERIES.items()
        }
    finally:
        connection.close()
