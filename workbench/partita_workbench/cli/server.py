"""``partita server ...``: run the backend as an HTTP server."""

from __future__ import annotations

import typer

app = typer.Typer(help="Run the Partita backend server.", no_args_is_help=True)


@app.command("start")
def start(
    host: str = typer.Option(None, help="Address to bind (default PARTITA_SERVER_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port to bind (default PARTITA_SERVER_PORT or 4200)."),
) -> None:
    """Start the backend (uvicorn) with the database from PARTITA_DATABASE_URL or PARTITA_HOME.

    Clients reach it when PARTITA_API_URL is set to http://HOST:PORT/api.
    """
    from partita.settings import get_settings
    from partita_workbench.server import run_server

    settings = get_settings()
    run_server(host=host or settings.server_host, port=port or settings.server_port)
