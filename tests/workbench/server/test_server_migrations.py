"""Alembic migrations: create the schema, match the models, go back down, run concurrently."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from partita_workbench.server.database.engine import Database, create_engine, downgrade, migrate, reset
from partita_workbench.server.database.models import Base, Flow

pytestmark = pytest.mark.anyio

TABLES = {
    "flow", "flow_run", "flow_run_state", "task_run", "task_run_state", "log",
    "artifact", "variable", "concurrency_limit", "concurrency_slot",
}


async def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def schema_diff(url: str) -> list:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await engine.dispose()


async def test_upgrade_creates_the_schema_of_the_models(database_url):
    await downgrade(database_url)  # the PostgreSQL database is shared by the session
    assert await table_names(database_url) <= {"alembic_version"}
    await migrate(database_url)
    assert await table_names(database_url) == TABLES | {"alembic_version"}
    assert await schema_diff(database_url) == []


async def test_upgrade_is_a_no_op_at_head(database_url):
    await migrate(database_url)
    await migrate(database_url)
    assert await table_names(database_url) == TABLES | {"alembic_version"}


async def test_downgrade_to_base_removes_the_schema(database_url):
    await migrate(database_url)
    await downgrade(database_url, "base")
    assert await table_names(database_url) & TABLES == set()
    await migrate(database_url)  # leave it usable


async def test_reset_empties_the_database(database_url):
    await migrate(database_url)
    engine = create_engine(database_url)
    try:
        async with Database(engine).write() as session:
            session.add(Flow(name="etl"))
        await reset(engine)
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM flow"))).scalar() == 0
    finally:
        await engine.dispose()


def test_sqlite_pragmas_are_set_on_every_connection(sqlite_url):
    async def pragmas() -> tuple:
        engine = create_engine(sqlite_url)
        try:
            async with engine.connect() as connection:
                names = ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
                return tuple(
                    [(await connection.exec_driver_sql(f"PRAGMA {name}")).scalar() for name in names]
                )
        finally:
            await engine.dispose()

    import asyncio

    assert asyncio.run(pragmas()) == ("wal", 1, 1, 30000)


def test_sqlite_parent_folder_is_created(tmp_path):
    import asyncio

    url = f"sqlite+aiosqlite:///{tmp_path / 'a' / 'b' / 'partita.db'}"
    asyncio.run(migrate(url))
    assert (tmp_path / "a" / "b" / "partita.db").exists()


def test_unsupported_driver_is_refused():
    from partita_workbench.server.database.engine import DatabaseConfigError

    with pytest.raises(DatabaseConfigError, match="sqlite\\+aiosqlite"):
        create_engine("mysql://localhost/db")


async def test_processes_migrating_at_once_all_succeed(database_url):
    await downgrade(database_url)
    code = (
        "import asyncio, sys\n"
        "from partita_workbench.server.database.engine import migrate\n"
        "asyncio.run(migrate(sys.argv[1]))\n"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", code, database_url], stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    errors = [(p.wait(timeout=120), p.stderr.read()) for p in processes]
    for process in processes:
        process.stderr.close()
    assert [status for status, _ in errors] == [0, 0, 0, 0], [err for _, err in errors]
    assert await table_names(database_url) == TABLES | {"alembic_version"}


def test_head_revision_is_alembics_head():
    from alembic.script import ScriptDirectory

    from partita_workbench.server.database.engine import HEAD_REVISION, alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [HEAD_REVISION]


async def test_an_older_database_is_still_upgraded(database_url):
    from partita_workbench.server.database.engine import HEAD_REVISION, current_revisions

    await migrate(database_url)
    await downgrade(database_url, "0001")
    assert await current_revisions(database_url) == {"0001"}
    assert "variable" not in await table_names(database_url)
    await migrate(database_url)
    assert await current_revisions(database_url) == {HEAD_REVISION}
    assert await table_names(database_url) == TABLES | {"alembic_version"}


async def test_a_fresh_database_has_no_revision(sqlite_url):
    from partita_workbench.server.database.engine import current_revisions

    assert await current_revisions(sqlite_url) == set()


_MIGRATE_AND_SAY_IF_ALEMBIC_RAN = (
    "import asyncio, sys\n"
    "from partita_workbench.server.database.engine import migrate\n"
    "asyncio.run(migrate(sys.argv[1]))\n"
    "print('alembic' in sys.modules)\n"
)


def _alembic_imported_by_migrate(url: str) -> bool:
    """Migrate ``url`` in a fresh process; whether that imported Alembic."""
    done = subprocess.run([sys.executable, "-c", _MIGRATE_AND_SAY_IF_ALEMBIC_RAN, url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split() == ["True"]


def test_a_database_at_head_is_not_migrated_again(sqlite_url, tmp_path):
    """At head, start-up neither takes the migration lock nor imports Alembic.

    Another connection holds SQLite's write lock; migrating again must return
    at once instead of waiting for the lock (which Alembic's locked upgrade
    would, for the 30 s busy timeout).
    """
    import asyncio
    import sqlite3
    import time

    asyncio.run(migrate(sqlite_url))
    writer = sqlite3.connect(tmp_path / "partita.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        asyncio.run(asyncio.wait_for(migrate(sqlite_url), timeout=10))
        assert time.monotonic() - started < 10
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert not _alembic_imported_by_migrate(sqlite_url)


def test_a_fresh_database_is_migrated_by_alembic(tmp_path):
    import asyncio

    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    assert _alembic_imported_by_migrate(url)
    assert asyncio.run(table_names(url)) == TABLES | {"alembic_version"}
