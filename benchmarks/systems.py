"""The systems under test and the environments they run in.

* **Partita** runs with the interpreter running the harness, which must have
  Partita installed (the repo's venv after ``pip install -e .``); its CLI is
  the ``partita`` script next to that interpreter.
* **Prefect** runs in a venv of its own, ``benchmarks/.venvs/prefect-<version>``,
  created with ``pip install prefect==<version>`` on first use and reused after.
* **papermill** alone, the baseline of the notebook case, runs with Partita's
  interpreter (papermill is one of Partita's dependencies, so both run the
  same papermill, nbclient and kernel); it has no database.

Every run gets a fresh home directory, so each system starts from an empty
database exactly as a new user's would. Settings (see :func:`System.env`):

* both: every inherited ``PARTITA_*`` / ``PREFECT_*`` variable removed, and
  ``DO_NOT_TRACK=1`` so benchmark runs send no usage telemetry;
  ``PYTHONDONTWRITEBYTECODE`` removed, and Partita's sources compiled to
  bytecode before the first run (:func:`partita_system`): pip compiles an
  installed package (Prefect's venv), but an editable install is compiled on
  import, and with that variable set every run would compile Partita again;
* Partita: ``PARTITA_HOME=<home>``; ``PARTITA_API_URL`` unset, so the backend
  runs in-process on ``<home>/partita.db``;
* Prefect: ``PREFECT_HOME=<home>``; ``PREFECT_API_URL`` unset, so Prefect starts
  its temporary local API server on ``<home>/prefect.db`` (its default);
  ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=180`` because creating a
  fresh database takes longer than the default 20 s wait on small machines,
  which makes every run fail. The wait changes no speed, only how long Prefect
  is willing to wait for its own server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

PREFECT_VERSION = "3.9.1"
VENVS = Path(__file__).resolve().parent / ".venvs"

_READY = ".ready"
_SHARED_ENV = {"DO_NOT_TRACK": "1"}
_DROPPED = {"PYTHONDONTWRITEBYTECODE"}


@dataclass(frozen=True)
class System:
    """One system under test.

    Args:
        name: ``partita``, ``prefect`` or ``papermill`` (also the workloads' ``--system``).
        package: the import name.
        python: interpreter that runs its workloads.
        cli: its command-line tool.
        home_variable: environment variable naming its home directory.
        database: database file name inside the home (``None``: it records nothing).
        settings: extra environment variables set for every run.
    """

    name: str
    package: str
    python: Path
    cli: Path
    home_variable: str
    database: str | None
    settings: dict[str, str] = field(default_factory=dict)

    def env(self, home: Path) -> dict[str, str]:
        """The environment of one run with ``home`` as the system's home."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PARTITA_", "PREFECT_")) and k not in _DROPPED}
        env.update(_SHARED_ENV)
        env.update(self.settings)
        env[self.home_variable] = str(home)
        return env

    def documented_settings(self) -> dict[str, str]:
        """The settings of a run, with the home shown as a placeholder (for reports)."""
        return {**_SHARED_ENV, **self.settings, self.home_variable: "<fresh temporary directory>"}


class SetupError(RuntimeError):
    """A system's environment cannot be prepared; the message says how to fix it."""


def partita_system(python: Path | None = None) -> System:
    """Partita in ``python`` (default: the interpreter running the harness).

    Raises:
        SetupError: Partita or its ``partita`` script is missing there.
    """
    python = Path(python or sys.executable)
    cli = python.parent / "partita"
    check = subprocess.run([str(python), "-c", "import partita"], capture_output=True, text=True)
    if check.returncode != 0 or not cli.exists():
        raise SetupError(
            f"Partita is not installed for {python}; from the repository root run "
            "`python -m pip install -e .` in that interpreter's venv, then try again"
        )
    compile_sources(python)
    return System("partita", "partita", python, cli, "PARTITA_HOME", "partita.db")


def compile_sources(python: Path) -> None:
    """Write the bytecode of the ``partita`` and ``partita_workbench`` packages ``python`` imports.

    What pip does when it installs a package; needed for an editable install
    (the repository's ``.venv``), whose ``__pycache__`` folders are otherwise
    only written by an import without ``PYTHONDONTWRITEBYTECODE``.
    """
    code = (
        "import compileall, os, partita, partita_workbench\n"
        "for package in (partita, partita_workbench):\n"
        "    compileall.compile_dir(os.path.dirname(package.__file__), quiet=1)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED}
    subprocess.run([str(python), "-c", code], env=env, capture_output=True, text=True, timeout=300)


def papermill_system(partita: System) -> System:
    """papermill alone, with the interpreter (and so the papermill) of ``partita``."""
    return System("papermill", "papermill", partita.python, partita.python.parent / "papermill", "PARTITA_HOME", None)


def prefect_system(report: Callable[[str], None] | None = None) -> System:
    """Prefect in its cached venv, created first if needed.

    Args:
        report: called with a one-line message before a slow step.

    Raises:
        SetupError: the venv could not be created (the pip log is quoted).
    """
    venv = ensure_prefect_venv(report)
    return System(
        "prefect",
        "prefect",
        venv / "bin" / "python",
        venv / "bin" / "prefect",
        "PREFECT_HOME",
        "prefect.db",
        settings={"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180"},
    )


def ensure_prefect_venv(report: Callable[[str], None] | None = None) -> Path:
    """``benchmarks/.venvs/prefect-<version>``, created with pip unless already complete.

    A venv counts as complete once ``.ready`` is written after a successful
    install; a half-made one (interrupted install) is removed and rebuilt.
    """
    venv = VENVS / f"prefect-{PREFECT_VERSION}"
    spec = f"prefect=={PREFECT_VERSION}"
    marker = venv / _READY
    if marker.exists() and marker.read_text().strip() == spec and (venv / "bin" / "prefect").exists():
        return venv
    if report:
        report(f"creating {venv.relative_to(VENVS.parent.parent)} with {spec} (first run only, takes a minute or two)")
    if venv.exists():
        shutil.rmtree(venv)
    VENVS.mkdir(parents=True, exist_ok=True)
    log = VENVS / f"prefect-{PREFECT_VERSION}.log"
    with log.open("w") as out:
        steps = (
            [sys.executable, "-m", "venv", str(venv)],
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", spec],
        )
        for argv in steps:
            out.write(f"$ {' '.join(argv)}\n")
            out.flush()
            if subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT).returncode != 0:
                tail = "".join(log.read_text().splitlines(keepends=True)[-15:])
                raise SetupError(f"could not create the Prefect venv (full log: {log}):\n{tail}")
    marker.write_text(spec + "\n")
    return venv
