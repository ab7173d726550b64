"""PostgreSQL databases for tests: 127.0.0.1:5432, user ``postgres`` (override with PARTITA_TEST_PG_*).

Each test session creates its own database (``partita_test_<random>``) and
drops it at the end; tests empty its tables rather than recreating it.
"""

from __future__ import annotations

import asyncio
import os
import uuid

PG_HOST = os.environ.get("PARTITA_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("PARTITA_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("PARTITA_TEST_PG_USER", "postgres")
TABLES = (
    "concurrency_slot", "concurrency_limit", "variable", "artifact",
    "log", "task_run_state", "task_run", "flow_run_state", "flow_run", "flow",
)


async def admin(sql: str) -> None:
    """Run ``sql`` on the server's ``postgres`` database."""
    import asyncpg

    connection = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres", timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def pg_url(database: str) -> str:
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


def create_database() -> str:
    """Create a database for this session and return its name.

    Raises:
        OSError, asyncio.TimeoutError: no PostgreSQL server answers.
    """
    name = f"partita_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    return name


def drop_database(name: str) -> None:
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def empty_tables(url: str) -> None:
    """Delete every row of Partita's tables in the database at ``url`` (children first)."""
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        present = {
            row["tablename"]
            for row in await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
        for table in TABLES:  # DELETE is quicker than TRUNCATE on tiny tables
            if table in present:
                await connection.execute(f"DELETE FROM {table}")
    finally:
        await connection.close()
