"""A wrong setting or environment: one ``Error:`` line of ours, a non-zero exit, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.cli import Server, free_port, run_cli

PIPELINE = Path(__file__).parents[2] / "data" / "pipelines" / "ordering.yaml"


def _one_error(result, *needles: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.lstrip().startswith("Error:"), result.stderr
    text = " ".join(result.stderr.split())
    for needle in needles:
        assert needle in text, text


@pytest.mark.parametrize(
    ("env", "needles"),
    [
        ({"PARTITA_API_URL": "notaurl"}, ["notaurl", "http"]),
        ({"PARTITA_API_URL": "http://127.0.0.1:1/api"}, ["cannot reach the Partita backend"]),
        ({"PARTITA_DATABASE_URL": "garbage"}, ["PARTITA_DATABASE_URL='garbage' is not a database URL"]),
        ({"PARTITA_DATABASE_URL": "mysql://u@h/db"}, ["unsupported database URL driver 'mysql'"]),
        ({"PARTITA_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/partita_no_such_db"},
         ['database "partita_no_such_db" does not exist']),
        ({"PARTITA_RECORDER_INTERVAL": "abc"}, ["PARTITA_RECORDER_INTERVAL='abc'"]),
        ({"PARTITA_LOGGING_LEVEL": "bogus"}, ["PARTITA_LOGGING_LEVEL='bogus'", "DEBUG, INFO"]),
    ],
)
def test_bad_settings_give_one_line(tmp_path: Path, env: dict[str, str], needles: list[str]) -> None:
    env = {"PARTITA_HOME": str(tmp_path / "home"), **env}
    _one_error(run_cli("flow-run", "ls", env=env, timeout=60), *needles)


def test_run_with_a_bad_database_url_gives_one_line(tmp_path: Path) -> None:
    env = {"PARTITA_HOME": str(tmp_path / "home"), "PARTITA_DATABASE_URL": "garbage"}
    _one_error(run_cli("run", str(PIPELINE), env=env, timeout=60), "PARTITA_DATABASE_URL")


def test_home_that_is_a_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("not a folder")
    _one_error(run_cli("flow-run", "ls", env={"PARTITA_HOME": str(home)}, timeout=60), "is a file, not a folder")


def test_corrupt_database_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "partita.db").write_bytes(b"this is not sqlite " * 100)
    result = run_cli("run", str(PIPELINE), env={"PARTITA_HOME": str(home)}, timeout=60)
    _one_error(result, "damaged or not a SQLite database")


def test_server_start_checks_database_and_port(tmp_path: Path) -> None:
    env = {"PARTITA_HOME": str(tmp_path / "home"),
           "PARTITA_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/partita_no_such_db"}
    _one_error(run_cli("server", "start", "--port", str(free_port()), env=env, timeout=60), "partita_no_such_db")
    bad_port = run_cli("server", "start", "--port", "99999", env={"PARTITA_HOME": str(tmp_path / "home")}, timeout=60)
    assert bad_port.returncode == 2 and "Traceback" not in bad_port.stderr and "--port" in bad_port.stderr
    bad_limit = run_cli("flow-run", "ls", "--limit", "-1", env={"PARTITA_HOME": str(tmp_path / "home")}, timeout=60)
    assert bad_limit.returncode == 2 and "Traceback" not in bad_limit.stderr and "--limit" in bad_limit.stderr


def test_api_url_with_a_wrong_path(tmp_path: Path) -> None:
    server = Server(tmp_path / "server-home").start()
    try:
        url = server.url.removesuffix("/api") + "/wrong"
        result = run_cli("flow-run", "ls", env={"PARTITA_HOME": str(tmp_path / "home"), "PARTITA_API_URL": url}, timeout=60)
        _one_error(result)
    finally:
        server.stop()


def test_an_error_is_one_whole_line_and_brackets_are_shown_as_given(tmp_path: Path) -> None:
    folder = tmp_path / "[bold]runs[/x]" / ("a-long-folder-name-" * 6)
    target = str(folder / "missing.yaml")
    result = run_cli("run", target, env={"PARTITA_HOME": str(tmp_path / "home"), "COLUMNS": "40"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0] == f"Error: {target}: no such file; give a pipeline .yaml, a notebook .ipynb or file.py:flow_name"
