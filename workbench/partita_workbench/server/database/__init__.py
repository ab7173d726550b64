"""The backend database: ORM models, engines and sessions, Alembic migrations."""

from partita_workbench.server.database.engine import (
    HEAD_REVISION,
    Database,
    DatabaseConfigError,
    create_engine,
    current_revisions,
    downgrade,
    migrate,
    reset,
)

__all__ = [
    "HEAD_REVISION", "Database", "DatabaseConfigError", "create_engine", "current_revisions", "downgrade", "migrate", "reset",
]
