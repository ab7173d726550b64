"""Settings of the backend server, read from ``PARTITA_SERVER_*`` environment variables.

==================================  ===============================================  ==================
environment variable                meaning                                          default
==================================  ===============================================  ==================
``PARTITA_SERVER_API_KEY``          bearer token every request must carry            unset (open)
``PARTITA_SERVER_API_AUTH_STRING``  ``user:password`` for HTTP basic auth instead     unset
``PARTITA_SERVER_CORS_ALLOWED_ORIGINS``  comma-separated origins allowed by CORS     none
``PARTITA_SERVER_MAX_BODY_BYTES``   largest request body accepted (413 beyond)       64 MiB
``PARTITA_SERVER_STORAGE``          folder of the server's result and artifact store  the SDK's result storage
``PARTITA_SERVER_EVENTS_RELAY``     on PostgreSQL, share live events with the other  true
                                    server processes on the database (LISTEN/NOTIFY)
``PARTITA_SERVER_LATE_RUNS_INTERVAL``  seconds between late-run sweeps (0: off)      5
``PARTITA_SERVER_LATE_RUNS_AFTER``  seconds past its scheduled time a run is Late    15
==================================  ===============================================  ==================

The API key and auth string follow Prefect's ``PREFECT_SERVER_API_AUTH_STRING`` /
``PREFECT_API_KEY`` pair: clients send ``PARTITA_API_KEY`` as ``Authorization:
Bearer <key>``, or ``PARTITA_API_AUTH_STRING`` as basic auth.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class ServerSettings(BaseSettings):
    """The server's settings; see the module docstring."""

    model_config = SettingsConfigDict(env_prefix="PARTITA_SERVER_", extra="ignore")

    api_key: str | None = None
    api_auth_string: str | None = None
    cors_allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1)
    storage: Path | None = None
    events_relay: bool = True
    late_runs_interval: float = Field(default=5.0, ge=0)
    late_runs_after: float = Field(default=15.0, ge=0)

    @field_validator("cors_allowed_origins", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    def resolved_storage(self) -> Path:
        """The store's root folder: the setting, else the SDK's result storage when it is a local
        folder, else ``<PARTITA_HOME>/storage`` (e.g. with ``PARTITA_RESULT_STORAGE=server``)."""
        if self.storage is not None:
            return self.storage.expanduser().resolve()
        from partita.settings import get_settings

        settings = get_settings()
        storage = settings.resolved_result_storage().removeprefix("file://")
        if "://" in storage:
            return (settings.home.expanduser() / "storage").resolve()
        return Path(storage).expanduser().resolve()
