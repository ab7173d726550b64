"""``partita server ...``: run the backend as an HTTP server and manage its database."""

from __future__ import annotations

import asyncio

import typer
from rich.text import Text

from partita_workbench.cli.render import plain_console, print_error

app = typer.Typer(help="Run the Partita backend server and manage its database.", no_args_is_help=True)
database_app = typer.Typer(help="Upgrade, downgrade or reset the backend database schema.", no_args_is_help=True)
app.add_typer(database_app, name="database")
console = plain_console()
err_console = plain_console(stderr=True, soft_wrap=True)


@app.command("start")
def start(
    host: str = typer.Option(None, help="Address to bind (default PARTITA_SERVER_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, min=1, max=65535, help="Port to bind (default PARTITA_SERVER_PORT or 4200)."),
    workers: int = typer.Option(1, min=1, help="Server processes sharing the port (uvicorn's --workers)."),
) -> None:
    """Start the backend (uvicorn) with the database from PARTITA_DATABASE_URL or PARTITA_HOME.

    Clients reach it when PARTITA_API_URL is set to http://HOST:PORT/api.
    """
    from partita.settings import get_settings
    from partita_workbench.server import run_server

    settings = get_settings()
    url = settings.resolved_database_url()
    _check_database(url)  # a bad URL or database: one line, before uvicorn starts
    if workers > 1 and url.startswith("sqlite"):
        err_console.print(Text.assemble(("Warning:", "yellow"), " with SQLite, live events ('partita flow-run watch') reach only "
                                        "watchers connected to the worker that recorded them; use PostgreSQL to share them"))
    run_server(host=host or settings.server_host, port=port or settings.server_port, workers=workers)


def _check_database(url: str) -> None:
    """Connect to the database once; its errors are explained by :mod:`partita_workbench.cli.errors`."""
    from partita_workbench.server.database import create_engine

    async def connect() -> None:
        engine = create_engine(url)
        try:
            async with engine.connect():
                pass
        finally:
            await engine.dispose()

    asyncio.run(connect())


def _database_url() -> str:
    from partita.settings import get_settings

    return get_settings().resolved_database_url()


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _run(action: str, coro_factory, url: str) -> None:
    from partita_workbench.server.database import DatabaseConfigError

    try:
        asyncio.run(coro_factory(url))
    except DatabaseConfigError as exc:
        print_error(f"PARTITA_DATABASE_URL: {exc}")
        raise typer.Exit(2) from None
    except (OSError, ConnectionError) as exc:
        from partita_workbench.cli.errors import explain

        explained = explain(exc)
        print_error(str(explained) if explained is not None else f"cannot reach the database {_shown(url)}: {exc}")
        raise typer.Exit(1) from None
    console.print(Text.assemble(f"{action} ", (_shown(url), "bold")))


@database_app.command("upgrade")
def upgrade(revision: str = typer.Option("head", help="Alembic revision to upgrade to.")) -> None:
    """Apply the migrations up to REVISION (default: the latest)."""
    from partita_workbench.server.database import migrate

    _run(f"Upgraded to {revision}:", lambda url: migrate(url, revision), _database_url())


@database_app.command("downgrade")
def downgrade(
    revision: str = typer.Option("-1", help="Alembic revision to go down to ('base' drops every table)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Undo migrations down to REVISION (default: the previous one). Data in dropped tables is lost."""
    from partita_workbench.server.database import downgrade as db_downgrade

    url = _database_url()
    if not yes:
        typer.confirm(f"Downgrade {_shown(url)} to {revision}? Dropped tables lose their data", abort=True)
    _run(f"Downgraded to {revision}:", lambda u: db_downgrade(u, revision), url)


@database_app.command("reset")
def reset(yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")) -> None:
    """Drop every table and recreate the schema: an empty database."""
    from partita_workbench.server.database import reset as db_reset

    url = _database_url()
    if not yes:
        typer.confirm(f"Delete all data in {_shown(url)}?", abort=True)
    _run("Reset", db_reset, url)
