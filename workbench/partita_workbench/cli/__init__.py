"""The ``partita`` command line (Typer + Rich).

``partita run TARGET``, ``partita validate FILE...``, ``partita graph TARGET``,
``partita flow-run ls|inspect|logs|watch|cancel``, ``partita notebook graph|check``,
``partita concurrency-limit create|inspect|ls|delete``, ``partita server start``. Each command
(group) lives in its own module.
"""

from __future__ import annotations

import sys

import typer

from partita_workbench.cli import concurrency_limits, flow_runs, graph, notebook, run, server, validate

app = typer.Typer(
    name="partita",
    help="Run and inspect Partita flows, YAML pipelines and notebooks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("run")(run.run_command)
app.command("validate")(validate.validate_command)
app.command("graph")(graph.graph_command)
app.add_typer(flow_runs.app, name="flow-run")
app.add_typer(concurrency_limits.app, name="concurrency-limit")
app.add_typer(notebook.app, name="notebook")
app.add_typer(server.app, name="server")


def main() -> None:
    """Entry point of the ``partita`` console script.

    A wrong setting or environment ends with one ``Error:`` line and exit
    code 1 (see :mod:`partita_workbench.cli.errors`).
    """
    from partita.exceptions import PartitaError

    try:
        app(args=run.normalize_refresh(sys.argv[1:]), prog_name="partita")
    except Exception as exc:
        from partita_workbench.cli.errors import explain

        try:
            error = explain(exc)
        except PartitaError as settings_error:  # the settings themselves cannot be read
            error = settings_error
        if error is None:
            raise
        from partita_workbench.cli.render import print_error

        print_error(str(error))
        sys.exit(1)
