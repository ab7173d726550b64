"""Running ``partita`` as a real subprocess, and a real ``partita server start``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

PARTITA = [sys.executable, "-m", "partita_workbench.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run ``partita ARGS`` in a fresh process (PARTITA_* from ``env`` over os.environ)."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run([*PARTITA, *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout)


def start_cli(*args: str, env: dict[str, str | None] | None = None, cwd: Path | None = None) -> subprocess.Popen:
    """Start ``partita ARGS`` in a process group of its own, stdout and stderr together.

    As a shell job: a signal to the group is a Ctrl-C in a terminal, and
    :func:`support.processes.kill_group` stops it with all it started.
    ``env`` goes over os.environ; a ``None`` value removes that variable.
    """
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    full_env = {key: value for key, value in full_env.items() if value is not None}
    return subprocess.Popen([*PARTITA, *args], cwd=cwd, env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


class Server:
    """``partita server start`` in a subprocess on a free 127.0.0.1 port."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Server":
        env = {**os.environ, "PARTITA_HOME": str(self.home)}
        env.pop("PARTITA_API_URL", None)
        self.proc = subprocess.Popen([*PARTITA, "server", "start", "--port", str(self.port)], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
            self.proc = None

