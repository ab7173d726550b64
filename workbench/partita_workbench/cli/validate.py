"""``partita validate FILE...``: report every problem of every pipeline file at once.

Each problem is printed as ``path:line:col: message`` (the format compilers
and editors use, so terminals and IDEs link to the place), files in the order
given and problems in file order; then one summary line. Exit code 0 when
every file is valid, 2 when any problem was found (a missing file counts as
one), as ``partita run`` exits 2 on invalid input. A Ploomber
``pipeline.yaml`` is checked as one (:mod:`partita_workbench.pipelines.ploomber`).
"""

from __future__ import annotations

from pathlib import Path

import typer

from partita.exceptions import InvalidTarget
from partita_workbench.cli.render import plain_console

console = plain_console(soft_wrap=True)
err_console = plain_console(stderr=True, soft_wrap=True)

YAML_SUFFIXES = (".yaml", ".yml")


def file_problems(path: str) -> list[str]:
    """Every problem of one file, as ``path:line:col: message`` lines (empty when valid)."""
    from partita_workbench.pipelines.loader import pipeline_problems

    file = Path(path)
    if not file.is_file():
        return [f"{path}:1:1: no such file" if not file.exists() else f"{path}:1:1: not a file"]
    if file.suffix not in YAML_SUFFIXES:
        return [f"{path}:1:1: not a pipeline file; 'partita validate' checks pipeline .yaml/.yml files"]
    from partita_workbench.pipelines.ploomber import is_ploomber_file, ploomber_problems

    try:
        return ploomber_problems(path) if is_ploomber_file(path) else pipeline_problems(path)
    except InvalidTarget as exc:
        return [f"{path}:1:1: {exc}"]


def print_report(problems_by_file: dict[str, list[str]], to_stderr: bool = False) -> int:
    """Print the problems (stdout, or stderr when they stop another command) and a summary on stderr.

    Returns:
        how many problems there were.
    """
    total = 0
    out = err_console if to_stderr else console
    for path, problems in problems_by_file.items():
        for line in problems:
            out.print(line)
        total += len(problems)
    bad = sum(1 for problems in problems_by_file.values() if problems)
    files = len(problems_by_file)
    if total:
        err_console.print(
            f"{total} problem{'s' if total != 1 else ''} in {bad} of {files} file{'s' if files != 1 else ''}",
        )
    else:
        err_console.print(f"{files} file{'s' if files != 1 else ''} valid")
    return total


def validate_command(
    files: list[str] = typer.Argument(..., help="Pipeline YAML files to check.", metavar="FILE..."),
) -> None:
    """Check pipeline files and print every problem as path:line:col: message (exit 2 when any)."""
    problems = {path: file_problems(path) for path in files}
    raise typer.Exit(2 if print_report(problems) else 0)
