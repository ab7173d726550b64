"""Where the figures come from: machine, interpreters, package versions, Partita's source state."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from benchmarks.systems import System

REPO = Path(__file__).resolve().parent.parent


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }
    try:
        with open("/proc/meminfo") as fh:
            info["memory_gib"] = round(int(fh.readline().split()[1]) / 1024**2, 1)
    except (OSError, ValueError, IndexError):
        pass
    return info


def system_info(system: System) -> dict[str, Any]:
    """The interpreter, the installed version and the run settings of ``system``."""
    version = _run(
        [str(system.python), "-c", f"import importlib.metadata as m; print(m.version({system.package!r}))"]
    )
    return {
        "python": str(system.python),
        "cli": str(system.cli),
        "version": version,
        "settings": system.documented_settings(),
    }


def partita_source(system: System) -> dict[str, Any]:
    """Git commit, uncommitted changes and a digest of the Partita source that ``system`` imports."""
    where = _run([
        str(system.python), "-c",
        "import os, partita, partita_workbench; "
        "print(os.path.dirname(partita.__file__)); print(os.path.dirname(partita_workbench.__file__))",
    ])
    folders = [Path(line) for line in (where or "").splitlines() if line]
    in_repo = bool(folders) and all(folder.is_relative_to(REPO) for folder in folders)
    return {
        "commit": _run(["git", "-C", str(REPO), "rev-parse", "HEAD"]) if in_repo else None,
        "uncommitted_changes": (
            bool(_run(["git", "-C", str(REPO), "status", "--porcelain", "--", "sdk", "workbench"])) if in_repo else None
        ),
        "folders": [str(folder) for folder in folders],
        "digest": source_digest(folders),
    }


def source_digest(folders: list[Path]) -> str:
    """SHA-256 over every ``.py`` file under ``folders`` (paths and contents)."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            digest.update(str(path.relative_to(folder.parent)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _run(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
