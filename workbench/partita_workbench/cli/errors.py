"""One clear line for a wrong setting or environment, instead of a library's traceback.

The command line's entry point passes exceptions that escaped a command
through :func:`explain`; those that come from the environment (an unreachable
or malformed ``PARTITA_API_URL``, a bad ``PARTITA_DATABASE_URL``, a database
that cannot be opened, a ``PARTITA_HOME`` that is not a folder, a corrupt
database file, a bad ``PARTITA_*`` value) become a
:class:`partita.exceptions.ConfigurationError` naming the setting and what to do.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import os

from partita.exceptions import ConfigurationError, PartitaError

__all__ = ["explain"]


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
            return error
        found = _explain_one(error)
        if found is not None:
            return found
    return None


def _explain_one(error: BaseException) -> ConfigurationError | None:
    from partita.settings import get_settings

    if type(error).__name__ == "DatabaseConfigError":
        return ConfigurationError(f"PARTITA_DATABASE_URL={get_settings().database_url!r}: {error}")
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
                f"PARTITA_DATABASE_URL={settings.database_url!r} is not a database URL ({_one_line(error)}); "
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
    if isinstance(error, (FileExistsError, NotADirectoryError)):
        home = get_settings().home.expanduser()
        if home.exists() and not home.is_dir():
            return ConfigurationError(f"PARTITA_HOME={str(home)!r} is a file, not a folder; point PARTITA_HOME at a folder")
    if isinstance(error, PermissionError):
        return ConfigurationError(f"{error.strerror}: {error.filename}; check PARTITA_HOME and the file permissions")
    return None


def _shown(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url
