"""The backend database: ORM models, engines and sessions, Alembic migrations."""

from partita_workbench.server.database.engine import (
    Database,
    DatabaseConfigError,
    create_engine,
    downgrade,
    migrate,
    reset,
)

__all__ = ["Database", "DatabaseConfigError", "create_engine", "downgrade", "migrate", "reset"]
