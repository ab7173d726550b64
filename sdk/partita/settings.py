"""Settings, read from ``PARTITA_*`` environment variables (pydantic-settings).

============================  ================================================  =====================
environment variable          meaning                                           default
============================  ================================================  =====================
``PARTITA_HOME``              folder for the embedded database and results      ``~/.partita``
``PARTITA_API_URL``           backend URL; unset = embedded backend in-process  unset
``PARTITA_API_KEY``           bearer token sent to the backend                  unset
``PARTITA_API_AUTH_STRING``   ``user:password`` sent as HTTP basic auth         unset
``PARTITA_DATABASE_URL``      SQLAlchemy URL of the backend database            SQLite file in home
``PARTITA_RESULT_STORAGE``    fsspec URL or path where results are written,     ``<home>/storage``
                              or ``server``: the backend's result store
``PARTITA_SERVER_HOST``       address ``partita server start`` binds            ``127.0.0.1``
``PARTITA_SERVER_PORT``       port ``partita server start`` binds               ``4200``
``PARTITA_LOGGING_LEVEL``     level of run loggers                              ``INFO``
``PARTITA_RECORDER_INTERVAL`` seconds between write-behind flushes              ``0.1``
``PARTITA_RECORDER_BATCH``    records that trigger an early flush               ``500``
``PARTITA_REFRESH_CACHE``     recompute every cached task (store anew)          ``false``
============================  ================================================  =====================

``PARTITA_CANCELLATION_POLL_INTERVAL``
    seconds between two checks of a running process for its flow runs being
    cancelled (``partita flow-run cancel``), default ``1.0``.

Notebook runs (papermill mode):

``PARTITA_NOTEBOOK_FALLBACK_KERNEL``
    kernel used when a notebook's own kernel is not installed (default unset:
    the run fails before starting, naming the installed kernels).
``PARTITA_NOTEBOOK_OUTPUT_LIMIT``
    characters of stream output (stdout/stderr) stored per cell in the
    executed notebook, default ``1000000``; the rest is dropped and marked.

Notebook runs (cells mode):

``PARTITA_CELLS_KERNELS``
    the most Jupyter kernels one cells-mode flow run keeps (a whole number,
    at least 1); default the CPUs the process may use, at least 2. Tasks
    wait for a free kernel; kernels are reused by later tasks after a reset.

Settings are read once per process (``get_settings()`` is cached); call
``get_settings.cache_clear()`` after changing the environment, e.g. in tests.
"""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Settings(BaseSettings):
    """All Partita settings; see the module docstring for the variables."""

    model_config = SettingsConfigDict(env_prefix="PARTITA_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.home() / ".partita")
    api_url: str | None = None
    api_key: str | None = None
    api_auth_string: str | None = None
    database_url: str | None = None
    result_storage: str | None = None
    server_host: str = "127.0.0.1"
    server_port: int = 4200
    logging_level: str = "INFO"
    recorder_interval: float = 0.1
    recorder_batch: int = 500
    cancellation_poll_interval: float = Field(default=1.0, gt=0)
    refresh_cache: bool = False
    notebook_fallback_kernel: str | None = None
    notebook_output_limit: int = 1_000_000
    cells_kernels: int | None = Field(default=None, ge=1)

    @field_validator("logging_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in _LEVELS:
            raise ValueError(f"unknown level; use one of {', '.join(_LEVELS)}")
        return value.upper()

    def resolved_database_url(self) -> str:
        """The backend database URL: the setting, or ``<home>/partita.db`` (SQLite, aiosqlite)."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.home.expanduser() / 'partita.db').resolve()}"

    def resolved_result_storage(self) -> str:
        """Where persisted results go: the setting, or ``<home>/storage``.

        ``server`` stands for ``partita://results``, the result store of the
        backend (:mod:`partita.result_store`).
        """
        if self.result_storage:
            from partita.result_store import SERVER_STORAGE, SERVER_STORAGE_URL, register

            if self.result_storage.strip().lower() == SERVER_STORAGE:
                register()  # whoever builds a path under this root can open it with fsspec
                return SERVER_STORAGE_URL
            return self.result_storage
        return str((self.home.expanduser() / "storage").resolve())


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use.

    Raises:
        partita.exceptions.ConfigurationError: a ``PARTITA_*`` variable holds
            a value of the wrong type (the message names the variable).
    """
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        import os

        from partita.exceptions import ConfigurationError

        problems = []
        for error in exc.errors():
            name = "PARTITA_" + "_".join(str(p) for p in error["loc"]).upper()
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{name}={os.environ.get(name, '')!r}: {message[:1].lower()}{message[1:]}")
        raise ConfigurationError("bad setting " + "; ".join(problems) + " — fix the variable or unset it") from None
