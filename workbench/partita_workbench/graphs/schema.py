"""Writing ``schemas/graph.schema.json`` from :class:`~.model.GraphDocument`.

Run ``python -m partita_workbench.graphs.schema [REPO_ROOT]`` after changing
the model; a test fails while the committed file differs from it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from partita_workbench.graphs import graph_json_schema

__all__ = ["SCHEMA_FILE", "schema_text", "write_schema"]

SCHEMA_FILE = Path("schemas") / "graph.schema.json"
"""Where the schema lives, relative to the repository root."""


def schema_text() -> str:
    """The schema as committed: JSON, two-space indent, a final newline."""
    return json.dumps(graph_json_schema(), indent=2, ensure_ascii=False) + "\n"


def write_schema(root: Path) -> Path:
    """Write the schema under ``root``; returns the file's path."""
    path = root / SCHEMA_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(schema_text(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_schema(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()))
