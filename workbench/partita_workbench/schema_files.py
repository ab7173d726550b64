"""Committed JSON Schema files (``schemas/*.schema.json``): their text and how they are written.

Each schema is generated from pydantic models; a test compares the committed
file with :func:`schema_text` so the two never drift.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["schema_text", "write_schema"]


def schema_text(schema: dict[str, Any]) -> str:
    """The schema as committed: JSON, two-space indent, keys in model order, a final newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schema(root: Path, relative: Path, schema: dict[str, Any]) -> Path:
    """Write ``schema`` at ``root / relative``; returns the file's path."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(schema_text(schema), encoding="utf-8")
    return path
