"""``partita server database upgrade|downgrade|reset`` on both databases, as a real subprocess."""

from __future__ import annotations

import asyncio

from support.cli import run_cli
from partita_workbench.server.database.engine import Database, create_engine
from partita_workbench.server.database.models import Flow


async def table_names(url: str) -> set[str]:
    from sqlalchemy import inspect

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def _add_flow(url: str) -> None:
    engine = create_engine(url)
    try:
        async with Database(engine).write() as session:
            session.add(Flow(name="kept"))
    finally:
        await engine.dispose()


async def _flow_count(url: str) -> int:
    from sqlalchemy import func, select

    engine = create_engine(url)
    try:
        async with Database(engine).read() as session:
            return int(await session.scalar(select(func.count()).select_from(Flow)))
    finally:
        await engine.dispose()


def test_upgrade_downgrade_and_reset(database_url):
    env = {"PARTITA_DATABASE_URL": database_url}
    # the fixture's database may hold tables of earlier tests: start from nothing
    down = run_cli("server", "database", "downgrade", "--revision", "base", "--yes", env=env)
    assert down.returncode == 0, down.stderr
    assert asyncio.run(table_names(database_url)) <= {"alembic_version"}

    up = run_cli("server", "database", "upgrade", env=env)
    assert up.returncode == 0, up.stderr
    assert "Upgraded to head" in up.stdout
    assert {"flow", "flow_run", "task_run", "log"} <= asyncio.run(table_names(database_url))

    asyncio.run(_add_flow(database_url))
    assert asyncio.run(_flow_count(database_url)) == 1
    result = run_cli("server", "database", "reset", "--yes", env=env)
    assert result.returncode == 0, result.stderr
    assert asyncio.run(_flow_count(database_url)) == 0


def test_reset_asks_first_and_keeps_data_on_no(database_url):
    env = {"PARTITA_DATABASE_URL": database_url}
    assert run_cli("server", "database", "upgrade", env=env).returncode == 0
    asyncio.run(_add_flow(database_url))
    import os
    import subprocess
    import sys

    answered = subprocess.run(
        [sys.executable, "-m", "partita_workbench.cli", "server", "database", "reset"],
        input="n\n", capture_output=True, text=True, env={**os.environ, **env}, timeout=120,
    )
    assert answered.returncode != 0
    assert asyncio.run(_flow_count(database_url)) == 1


def test_bad_database_url_is_a_clear_error():
    result = run_cli("server", "database", "upgrade", env={"PARTITA_DATABASE_URL": "mysql://x@localhost/db"})
    assert result.returncode == 2
    assert "unsupported database URL driver" in result.stderr
