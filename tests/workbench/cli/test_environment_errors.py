"""A wrong setting or environment: one ``Error:`` line of ours, a non-zero exit, no traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support.cli import Server, free_port, run_cli

PIPELINE = Path(__file__).parents[2] / "data" / "pipelines" / "ordering.yaml"


def _one_error(result, *needles: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "secret" not in result.stdout + result.stderr  # a password in a URL is never printed
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.lstrip().startswith("Error:"), result.stderr
    text = " ".join(result.stderr.split())
    for needle in needles:
        assert needle in text, text


@pytest.mark.parametrize(
    ("env", "needles"),
    [
        ({"PARTITA_API_URL": "notaurl"},
         ["PARTITA_API_URL='notaurl' is not an http(s) URL", "set it to http://HOST:PORT/api"]),
        ({"PARTITA_API_URL": "http://127.0.0.1:1/api"},
         ["cannot reach the Partita backend at PARTITA_API_URL='http://127.0.0.1:1/api'", "partita server start"]),
        ({"PARTITA_DATABASE_URL": "garbage"}, ["PARTITA_DATABASE_URL='garbage' is not a database URL"]),
        ({"PARTITA_DATABASE_URL": "mysql://u@h/db"}, ["unsupported database URL driver 'mysql'"]),
        ({"PARTITA_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/partita_no_such_db"},
         ['database "partita_no_such_db" does not exist']),
        ({"PARTITA_RECORDER_INTERVAL": "abc"}, ["PARTITA_RECORDER_INTERVAL='abc'"]),
        ({"PARTITA_LOGGING_LEVEL": "bogus"}, ["PARTITA_LOGGING_LEVEL='bogus'", "DEBUG, INFO"]),
        ({"PARTITA_DATABASE_URL": "postgresql+asyncpg://u@127.0.0.1:1/db"},
         ["cannot reach the database postgresql+asyncpg://u@127.0.0.1:1/db", "check PARTITA_DATABASE_URL"]),
        ({"PARTITA_DATABASE_URL": "postgresql://u:secret@127.0.0.1:1/db"},
         ["PARTITA_DATABASE_URL='postgresql://u:***@127.0.0.1:1/db'", "unsupported database URL driver 'postgresql'"]),
        ({"PARTITA_DATABASE_URL": "postgresql+asyncpg://u:secret@127.0.0.1:notaport/db"},
         ["PARTITA_DATABASE_URL='postgresql+asyncpg://u:***@127.0.0.1:notaport/db': not a database URL", "'notaport'"]),
    ],
)
@pytest.mark.parametrize("command", [("flow-run", "ls"), ("run", f"{PIPELINE.parent.parent}/flows/simple.py:squares")],
                         ids=["flow-run-ls", "run"])
def test_bad_settings_give_one_line(tmp_path: Path, env: dict[str, str], needles: list[str], command: tuple[str, ...]) -> None:
    env = {"PARTITA_HOME": str(tmp_path / "home"), **env}
    _one_error(run_cli(*command, env=env, timeout=60), *needles)


def test_run_with_a_bad_database_url_gives_one_line(tmp_path: Path) -> None:
    env = {"PARTITA_HOME": str(tmp_path / "home"), "PARTITA_DATABASE_URL": "garbage"}
    _one_error(run_cli("run", str(PIPELINE), env=env, timeout=60), "PARTITA_DATABASE_URL")


def test_home_that_is_a_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("not a folder")
    _one_error(run_cli("flow-run", "ls", env={"PARTITA_HOME": str(home)}, timeout=60), "is a file, not a folder")


def test_home_below_a_file(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("not a folder")
    home = tmp_path / "afile" / "sub"
    result = run_cli("flow-run", "ls", env={"PARTITA_HOME": str(home)}, timeout=60)
    _one_error(result, f"PARTITA_HOME='{home}'", f"{tmp_path / 'afile'} is a file, not a folder",
               "point PARTITA_HOME at a folder")


def test_result_storage_that_is_a_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "storage").write_text("not a folder")
    result = run_cli("run", str(PIPELINE), env={"PARTITA_HOME": str(home)}, timeout=60)
    _one_error(result, f"PARTITA_HOME='{home}'", f"{home / 'storage'} is a file where a folder is needed")
    (tmp_path / "afile").write_text("not a folder")
    storage = tmp_path / "afile" / "results"
    result = run_cli("run", str(PIPELINE), env={"PARTITA_HOME": str(tmp_path / "home2"),
                                                "PARTITA_RESULT_STORAGE": str(storage)}, timeout=60)
    _one_error(result, f"PARTITA_RESULT_STORAGE='{storage}'", f"{tmp_path / 'afile'} is a file, not a folder")


@pytest.mark.parametrize("command", [("flow-run", "ls"), ("server", "database", "upgrade")])
def test_database_file_below_a_file(tmp_path: Path, command: tuple[str, ...]) -> None:
    (tmp_path / "afile").write_text("not a folder")
    url = f"sqlite+aiosqlite:///{tmp_path}/afile/x.db"
    result = run_cli(*command, env={"PARTITA_HOME": str(tmp_path / "home"), "PARTITA_DATABASE_URL": url},
                     timeout=60)
    _one_error(result, f"PARTITA_DATABASE_URL='{url}'", f"the folder of the database file {tmp_path / 'afile'} "
               "cannot be created", "point PARTITA_DATABASE_URL at a file in another folder")


@pytest.mark.parametrize("command", [("flow-run", "ls"), ("server", "database", "upgrade"),
                                     ("server", "start", "--port", "FREE")])
def test_postgresql_without_asyncpg(tmp_path: Path, command: tuple[str, ...]) -> None:
    blocker = tmp_path / "no-asyncpg" / "asyncpg"  # first on sys.path: `import asyncpg` fails as when not installed
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text('raise ModuleNotFoundError("No module named \'asyncpg\'", name="asyncpg")\n')
    env = {"PARTITA_HOME": str(tmp_path / "home"), "PARTITA_DATABASE_URL": "postgresql+asyncpg://u@127.0.0.1:1/db",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(blocker.parent), os.environ.get("PYTHONPATH")]))}
    result = run_cli(*(str(free_port()) if arg == "FREE" else arg for arg in command), env=env, timeout=60)
    _one_error(result, "PARTITA_DATABASE_URL='postgresql+asyncpg://u@127.0.0.1:1/db'",
               "PostgreSQL needs the 'postgres' extra", "pip install 'partita[postgres]'")


def test_the_sdk_error_for_an_unreachable_backend_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from partita.client import orchestration
    from partita.exceptions import BackendError

    monkeypatch.setattr(orchestration, "RETRY_DELAYS", ())
    with pytest.raises(BackendError, match=r"notaurl/api .*set PARTITA_API_URL to http://HOST:PORT/api"):
        orchestration.SyncPartitaClient("notaurl").hello()
    with pytest.raises(BackendError, match=r"127.0.0.1:1/api .*partita server start.*PARTITA_API_URL"):
        orchestration.SyncPartitaClient("http://127.0.0.1:1").hello()


def test_a_wrong_api_key_is_said_to_be_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTITA_SERVER_API_KEY", "the-right-key")
    server = Server(tmp_path / "server-home").start()
    try:
        env = {"PARTITA_HOME": str(tmp_path / "home"), "PARTITA_API_URL": server.url}
        wrong = run_cli("flow-run", "ls", env={**env, "PARTITA_API_KEY": "a-wrong-key"}, timeout=60)
        _one_error(wrong, "401", "the API key was rejected: PARTITA_API_KEY does not match the server's "
                   "PARTITA_SERVER_API_KEY")
        missing = run_cli("flow-run", "ls", env={**env, "PARTITA_API_KEY": ""}, timeout=60)
        _one_error(missing, "401", "authentication required: send PARTITA_API_KEY")
        right = run_cli("flow-run", "ls", env={**env, "PARTITA_API_KEY": "the-right-key"}, timeout=60)
        assert right.returncode == 0, right.stderr
    finally:
        server.stop()


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


def test_an_api_url_that_is_not_http_fails_at_once_without_retrying(tmp_path: Path) -> None:
    # retrying a URL whose scheme is wrong cannot help: before, the client spent about 34 s on it
    result = run_cli("flow-run", "ls", env={"PARTITA_HOME": str(tmp_path / "home"), "PARTITA_API_URL": "notaurl"},
                     timeout=15)
    _one_error(result, "PARTITA_API_URL='notaurl' is not an http(s) URL")


def test_a_file_where_the_result_storage_goes_stops_partita_run_before_a_run_is_recorded(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "storage").write_text("not a folder")
    result = run_cli("run", str(PIPELINE), env={"PARTITA_HOME": str(home)}, timeout=60)
    _one_error(result, f"{home / 'storage'} is a file where a folder is needed")
    listed = run_cli("flow-run", "ls", env={"PARTITA_HOME": str(home)}, timeout=60)
    assert listed.returncode == 0 and "Running" not in listed.stdout and "ordering" not in listed.stdout, listed.stdout
