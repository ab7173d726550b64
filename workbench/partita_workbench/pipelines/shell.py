"""Running the command of a ``shell:`` task."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from partita.exceptions import RunError

__all__ = ["ShellCommandError", "run_shell"]

_STDERR_TAIL_LINES = 10


class ShellCommandError(RunError):
    """A shell command exited with a non-zero code.

    Attributes:
        command: the command as run.
        returncode: its exit code (negative: killed by that signal number).
        stderr_tail: its last lines of standard error.
    """

    def __init__(self, command: str, returncode: int, stderr_tail: list[str]) -> None:
        self.command = command
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        tail = "\n".join(stderr_tail) if stderr_tail else "(no output on stderr)"
        super().__init__(f"shell command exited with code {returncode}: {command}\nlast lines of stderr:\n{tail}")


def run_shell(command: str, cwd: Path, logger: Any, env: dict[str, str] | None = None) -> str:
    """Run ``command`` with the system shell and return what it printed.

    Args:
        command: a command line for ``/bin/sh`` (``subprocess.run(shell=True)``).
        cwd: working directory.
        env: the process environment (default: this process's).
        logger: receives stdout lines at INFO and stderr lines at WARNING,
            once the command has finished.

    Returns:
        Standard output, decoded as UTF-8 (undecodable bytes replaced), with
        surrounding whitespace stripped.

    Raises:
        ShellCommandError: non-zero exit code.
    """
    completed = subprocess.run(
        command,
        shell=True,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        stdin=subprocess.DEVNULL,
    )
    for line in completed.stdout.splitlines():
        logger.info("%s", line)
    for line in completed.stderr.splitlines():
        logger.warning("%s", line)
    if completed.returncode != 0:
        raise ShellCommandError(command, completed.returncode, completed.stderr.splitlines()[-_STDERR_TAIL_LINES:])
    return completed.stdout.strip()
