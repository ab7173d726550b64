"""One clear line for a wrong setting or environment, instead of a library's traceback.

The command line's entry point passes exceptions that escaped a command
through :func:`explain`; those that come from the environment (an unreachable
or malformed ``PARTITA_API_URL``, a bad ``PARTITA_DATABASE_URL``, a database
that cannot be opened or reached, a PostgreSQL URL without the ``postgres``
extra, a ``PARTITA_HOME``, database folder or result storage folder that
cannot be created or used, a corrupt database file, a bad ``PARTITA_*``
value) become a :class:`partita.exceptions.ConfigurationError` naming the
setting and what to do. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import os
import re
import traceback
from pathlib import Path

from partita.exceptions import ConfigurationError, PartitaError

__all__ = ["explain"]

_DATABASE_MODULES = ("asyncpg", "aiosqlite", "sqlite3", "sqlalchemy")
_EXTRAS = {"asyncpg": ("PostgreSQL", "postgres")}  # driver module: (what needs it, the extra that installs it)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return seen


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def explain(exc: BaseException) -> PartitaError | None:
    """Our error for ``exc`` when the environment caused it, else ``None``."""
    for error in _chain(exc):
        if isinstance(error, PartitaError):
            cause = error.__cause__
            if cause is not None and type(cause).__module__.startswith("httpx"):
                # the client's BackendError around a transport error: say it in terms of PARTITA_API_URL
                return _explain_one(cause) or error
            return error
        found = _explain_one(error)
        if found is not None:
            return found
    return None


def _explain_one(error: BaseException) -> ConfigurationError | None:
    from partita.settings import get_settings

    if type(error).__name__ == "DatabaseConfigError":
        return ConfigurationError(f"PARTITA_DATABASE_URL={_shown(get_settings().database_url)!r}: {error}")
    if isinstance(error, ModuleNotFoundError) and error.name in _EXTRAS:
        needs, extra = _EXTRAS[error.name]
        url = _shown(get_settings().resolved_database_url())
        return ConfigurationError(
            f"PARTITA_DATABASE_URL={url!r}: {needs} needs the {extra!r} extra, which is not installed "
            f"(no module {error.name!r}); install it with: pip install 'partita[{extra}]'"
        )
    module = type(error).__module__
    if module.startswith("httpx"):
        url = os.environ.get("PARTITA_API_URL", "")
        import httpx

        if isinstance(error, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
            return ConfigurationError(
                f"PARTITA_API_URL={url!r} is not an http(s) URL; set it to http://HOST:PORT/api, or unset it for the embedded backend"
            )
        if isinstance(error, httpx.TransportError):
            return ConfigurationError(
                f"cannot reach the Partita backend at PARTITA_API_URL={url!r} ({_one_line(error)}); "
                "start it with `partita server start`, or unset PARTITA_API_URL for the embedded backend"
            )
    if module.startswith("sqlalchemy"):
        from sqlalchemy import exc as sa

        settings = get_settings()
        if isinstance(error, sa.ArgumentError):
            return ConfigurationError(
                f"PARTITA_DATABASE_URL={_shown(settings.database_url)!r} is not a database URL ({_one_line(error)}); "
                "use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST:PORT/DATABASE"
            )
        if isinstance(error, sa.DBAPIError):
            text = _one_line(error)
            if "file is not a database" in text or "database disk image is malformed" in text:
                return ConfigurationError(
                    f"the database file {settings.resolved_database_url().split('///', 1)[-1]} is damaged or not a "
                    "SQLite database; move it away (a new one is created) or point PARTITA_HOME elsewhere"
                )
            return ConfigurationError(
                f"cannot open the database {_shown(settings.resolved_database_url())}: {text}; "
                "check PARTITA_DATABASE_URL (and that the database exists)"
            )
    if isinstance(error, OSError):
        return _explain_os_error(error)
    return None


# --------------------------------------------------------------------------- files and folders


class _Place:
    """A folder Partita needs, and the setting that chooses it."""

    def __init__(self, folder: Path, what: str, setting: str, value: str, todo: str) -> None:
        self.folder, self.what, self.setting, self.value, self.todo = folder, what, setting, value, todo

    @property
    def named(self) -> str:
        return f"{self.setting}={self.value!r}"


def _absolute(path: str | Path) -> Path:
    return Path(os.path.abspath(Path(path).expanduser()))


def _places() -> list[_Place]:
    """The folders to blame, the most specific first: an explicit database or storage folder, then PARTITA_HOME."""
    from partita.results import local_folder
    from partita.settings import get_settings

    settings = get_settings()
    home = _absolute(settings.home)
    places = []
    database = _sqlite_path(settings.database_url) if settings.database_url else None
    if database is not None:
        places.append(_Place(database.parent, "the folder of the database file", "PARTITA_DATABASE_URL",
                             _shown(settings.database_url), "point PARTITA_DATABASE_URL at a file in another folder, or unset it"))
    storage = local_folder(settings.resolved_result_storage()) if settings.result_storage else None
    if storage is not None:
        places.append(_Place(_absolute(storage), "the result storage folder", "PARTITA_RESULT_STORAGE",
                             settings.result_storage, "point PARTITA_RESULT_STORAGE at a folder, or unset it"))
    places.append(_Place(home, "the folder", "PARTITA_HOME", str(home),
                         "point PARTITA_HOME at a folder, or unset it for ~/.partita"))
    return places


def _sqlite_path(url: str) -> Path | None:
    from partita_workbench.server.database.engine import sqlite_file

    try:
        path = sqlite_file(url)
    except Exception:  # not a URL: explained elsewhere
        return None
    return _absolute(path) if path is not None else None


def _related(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder) or folder.is_relative_to(path)


def _first_file(path: Path) -> Path | None:
    """The outermost part of ``path`` that exists and is not a folder (what blocks creating it)."""
    for part in [*reversed(path.parents), path]:
        if part.exists() and not part.is_dir():
            return part
        if not part.exists():
            return None
    return None


def _explain_os_error(error: OSError) -> ConfigurationError | None:
    if error.filename is None or isinstance(error.filename, int):
        return _explain_unreachable_database(error)
    path = _absolute(os.fsdecode(error.filename))
    place = next((p for p in _places() if _related(path, p.folder)), None)
    if place is None:
        if isinstance(error, PermissionError):
            return ConfigurationError(f"{error.strerror}: {error.filename}; check PARTITA_HOME and the file permissions")
        return None
    blocking = _first_file(path) if error.errno in (errno.ENOTDIR, errno.EEXIST) else None
    if blocking is not None:
        if blocking == place.folder and place.setting == "PARTITA_HOME":
            return ConfigurationError(f"{place.named} is a file, not a folder; {place.todo}")
        if blocking == place.folder or place.folder.is_relative_to(blocking):
            return ConfigurationError(
                f"{place.named}: {place.what} {place.folder} cannot be created: {blocking} is a file, not a folder; "
                f"{place.todo}"
            )
        return ConfigurationError(
            f"{place.named}: {blocking} is a file where a folder is needed; move it away, or point {place.setting} elsewhere"
        )
    problem = f"{error.strerror or _one_line(error)}: {error.filename}"
    if isinstance(error, PermissionError):
        return ConfigurationError(f"{place.named}: {problem}; check the file permissions, or {place.todo}")
    return ConfigurationError(f"{place.named}: cannot use {place.what} {place.folder} ({problem}); {place.todo}")


def _explain_unreachable_database(error: OSError) -> ConfigurationError | None:
    """A refused connection, unknown host or timeout raised by the database driver."""
    modules = {frame.f_globals.get("__name__", "") for frame, _ in traceback.walk_tb(error.__traceback__)}
    if not any(name.split(".", 1)[0] in _DATABASE_MODULES for name in modules):
        return None
    from partita.settings import get_settings

    return ConfigurationError(
        f"cannot reach the database {_shown(get_settings().resolved_database_url())} ({_one_line(error)}); "
        "check PARTITA_DATABASE_URL and that the database server is running"
    )


def _shown(url: str) -> str:
    """``url`` with its password masked (``user:***@``), even when it is not a valid URL."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)
