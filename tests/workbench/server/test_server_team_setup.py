"""docs/server.md followed step by step: a server on the database with an API key, the CLI pointed at it."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import httpx
from support.cli import PARTITA, free_port, run_cli

FLOWS = Path(__file__).parents[2] / "data" / "flows"
KEY = "team-key-123"


def test_server_with_api_key_and_cli_pointed_at_it(database_url, tmp_path):
    server_env = {"PARTITA_DATABASE_URL": database_url, "PARTITA_HOME": str(tmp_path / "server-home")}
    upgraded = run_cli("server", "database", "upgrade", env=server_env)
    assert upgraded.returncode == 0, upgraded.stderr
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [*PARTITA, "server", "start", "--port", str(port)],
        env={**os.environ, **server_env, "PARTITA_SERVER_API_KEY": KEY},
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 180  # generous: a loaded machine starts Python slowly
        while True:
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
                time.sleep(0.2)
        assert httpx.get(f"{url}/version").status_code == 401

        client_env = {"PARTITA_API_URL": url, "PARTITA_API_KEY": KEY, "PARTITA_HOME": str(tmp_path / "client-home")}
        ran = run_cli("run", f"{FLOWS}/simple.py:squares", "-p", "n=3", env=client_env)
        assert ran.returncode == 0, ran.stderr
        run_id = re.search(r"flow-run inspect ([0-9a-f-]{36})", ran.stdout).group(1)
        inspected = run_cli("flow-run", "inspect", run_id, env=client_env)
        assert inspected.returncode == 0 and "Completed" in inspected.stdout, inspected.stderr

        no_key = {**client_env, "PARTITA_API_KEY": ""}
        refused = run_cli("flow-run", "ls", env=no_key)
        assert refused.returncode != 0
        assert "401" in refused.stderr and "PARTITA_API_KEY" in refused.stderr
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
