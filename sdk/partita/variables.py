"""Variables: named JSON values kept by the backend (as Prefect 3's ``prefect.variables``).

::

    from partita import variables
    variables.set("batch_size", 500)
    variables.get("batch_size")            # 500
    variables.get("missing", default=1)    # 1

Names are lowercase letters, digits, dashes and underscores. Values are
anything JSON can hold.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Variable", "get", "set", "unset"]

_builtin_set = set


def _client():
    from partita.client.orchestration import shared_sync_client

    return shared_sync_client()


class Variable:
    """Class-level access to variables, as Prefect's ``Variable.get`` / ``Variable.set`` / ``Variable.unset``."""

    @classmethod
    def get(cls, name: str, default: Any = None) -> Any:
        """The value of ``name``, or ``default`` when there is no such variable."""
        found = _client().read_variable_by_name(name)
        return default if found is None else found.value

    @classmethod
    def set(cls, name: str, value: Any, tags: list[str] | None = None, overwrite: bool = False) -> Any:
        """Store ``value`` under ``name``; returns it.

        Raises:
            ValueError: the variable exists and ``overwrite`` is False (as Prefect).
            partita.exceptions.BackendError: the backend refused the name or value.
        """
        from partita.exceptions import ObjectAlreadyExists

        client = _client()
        try:
            client.create_variable(name, value, tags)
        except ObjectAlreadyExists:
            if not overwrite:
                raise ValueError(f"variable {name!r} already exists; pass overwrite=True to replace its value") from None
            client.update_variable(name, value, tags)
        return value

    @classmethod
    def unset(cls, name: str) -> bool:
        """Delete ``name``; True if it existed."""
        from partita.exceptions import ObjectNotFound

        try:
            _client().delete_variable_by_name(name)
        except ObjectNotFound:
            return False
        return True


def get(name: str, default: Any = None) -> Any:
    """``Variable.get``."""
    return Variable.get(name, default)


def set(name: str, value: Any, tags: list[str] | None = None, overwrite: bool = False) -> Any:  # noqa: A001
    """``Variable.set``."""
    return Variable.set(name, value, tags, overwrite)


def unset(name: str) -> bool:
    """``Variable.unset``."""
    return Variable.unset(name)
