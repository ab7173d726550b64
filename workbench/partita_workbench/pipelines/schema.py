"""Writing ``schemas/pipeline.schema.json`` from the spec models.

Run ``python -m partita_workbench.pipelines.schema [REPO_ROOT]`` after changing
:mod:`.spec`; a test fails while the committed file differs from the models.
"""

from __future__ import annotations

import sys
from pathlib import Path

from partita_workbench import schema_files
from partita_workbench.pipelines.spec import pipeline_json_schema

__all__ = ["schema_text", "write_schema"]

SCHEMA_FILE = Path("schemas") / "pipeline.schema.json"
"""Where the schema lives, relative to the repository root."""


def schema_text() -> str:
    """The schema as committed (see :func:`partita_workbench.schema_files.schema_text`)."""
    return schema_files.schema_text(pipeline_json_schema())


def write_schema(root: Path) -> Path:
    """Write the schema under ``root``; returns the file's path."""
    return schema_files.write_schema(root, SCHEMA_FILE, pipeline_json_schema())


if __name__ == "__main__":
    print(write_schema(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()))
