"""A real uvicorn server process of the backend on a free 127.0.0.1 port, for a given database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx

_CODE = (
    "import sys\n"
    "from partita_workbench.server import run_server\n"
    "run_server('127.0.0.1', int(sys.argv[1]), database_url=sys.argv[2], log_level='warning')\n"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class UvicornServer:
    """``start()`` / ``stop()`` (SIGKILL: no graceful shutdown) a server on ``port``; ``url`` ends in ``/api``."""

    def __init__(self, database_url: str, port: int | None = None, env: dict[str, str] | None = None) -> None:
        self.database_url = database_url
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.env = env or {}
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "UvicornServer":
        env = {**os.environ, **self.env}
        env.pop("PARTITA_API_URL", None)
        self.process = subprocess.Popen(
            [sys.executable, "-c", _CODE, str(self.port), self.database_url],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        with httpx.Client(trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(f"server exited early: {self.process.stdout.read().decode()}")
                try:
                    if client.get(f"{self.url}/health", timeout=1).status_code == 200:
                        return self
                except httpx.HTTPError:
                    time.sleep(0.1)
        self.stop()
        raise AssertionError(f"server did not answer /api/health within {timeout} s")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.kill()
        self.process.wait(timeout=30)
        self.process.stdout.close()
        self.process = None

    def __enter__(self) -> "UvicornServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
