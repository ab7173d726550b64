"""Global concurrency limits around any block of code (as Prefect 3's ``prefect.concurrency``).

::

    from partita import concurrency

    with concurrency("database", occupy=1):        # or: async with concurrency(...)
        write_rows()

Entering takes ``occupy`` slots of every named limit at once (created with
``POST /api/v2/concurrency_limits/`` or ``create_if_missing=True``), waiting
with backoff while one is full; leaving gives them back, also when the block
raises. Names that have no limit are not waited on, as in Prefect. One
decision logic (:class:`_Acquisition`), two thin drivers (``with`` and
``async with``).
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

__all__ = ["concurrency"]

FIRST_DELAY = 0.05  # seconds before the first new try; doubles up to MAX_DELAY, with jitter
MAX_DELAY = 1.0


class _Acquisition:
    """When to try again for slots, and when to give up (no I/O)."""

    def __init__(self, names: list[str], occupy: int, timeout_seconds: float | None) -> None:
        self.names, self.occupy = names, occupy
        self.deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        self.timeout_seconds = timeout_seconds
        self.delay = FIRST_DELAY

    def next_delay(self) -> float:
        """Seconds to wait before the next try.

        Raises:
            ConcurrencySlotAcquisitionError: the timeout has passed.
        """
        from partita.exceptions import ConcurrencySlotAcquisitionError

        delay = self.delay * (0.5 + random.random())
        self.delay = min(self.delay * 2, MAX_DELAY)
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise ConcurrencySlotAcquisitionError(
                    f"could not take {self.occupy} slot(s) of {', '.join(self.names)} within "
                    f"{self.timeout_seconds} s; raise the limit or the timeout"
                )
            delay = min(delay, left)
        return delay


class concurrency:  # noqa: N801 - a context manager named as Prefect's
    """Hold ``occupy`` slots of the limits ``names`` for the duration of a ``with`` / ``async with`` block.

    Args:
        names: one limit name or several.
        occupy: slots to take of each (>= 1).
        timeout_seconds: give up after this long (None: wait as long as it takes).
        create_if_missing: create a limit of ``occupy`` slots for a name that has none.

    Raises:
        partita.exceptions.ConcurrencySlotAcquisitionError: on timeout.
        ValueError: ``occupy`` below 1 or no names.
    """

    def __init__(
        self, names: str | list[str], occupy: int = 1, timeout_seconds: float | None = None, create_if_missing: bool = False
    ) -> None:
        self.names = [names] if isinstance(names, str) else list(names)
        if not self.names:
            raise ValueError("concurrency(): give at least one limit name")
        if occupy < 1:
            raise ValueError(f"concurrency(): occupy must be at least 1, not {occupy}")
        self.occupy, self.timeout_seconds, self.create_if_missing = occupy, timeout_seconds, create_if_missing
        self._taken: list[str] = []
        self._async_client: Any = None

    # -- blocking -------------------------------------------------------------------
    def __enter__(self) -> "concurrency":
        from partita.client.orchestration import shared_sync_client
        from partita.exceptions import SlotsUnavailable

        client = shared_sync_client()
        acquisition = _Acquisition(self.names, self.occupy, self.timeout_seconds)
        while True:
            try:
                taken = client.increment_concurrency_slots(self.names, self.occupy, self.create_if_missing)
                break
            except SlotsUnavailable:
                time.sleep(acquisition.next_delay())
        self._taken = [limit.name for limit in taken]
        return self

    def __exit__(self, *exc: Any) -> None:
        from partita.client.orchestration import shared_sync_client

        if self._taken:
            shared_sync_client().release_concurrency_slots(self._taken, self.occupy)
            self._taken = []

    # -- asyncio ----------------------------------------------------------------------
    async def __aenter__(self) -> "concurrency":
        from partita.client.orchestration import get_client
        from partita.exceptions import SlotsUnavailable

        self._async_client = client = get_client()
        acquisition = _Acquisition(self.names, self.occupy, self.timeout_seconds)
        try:
            while True:
                try:
                    taken = await client.increment_concurrency_slots(self.names, self.occupy, self.create_if_missing)
                    break
                except SlotsUnavailable:
                    await asyncio.sleep(acquisition.next_delay())
        except BaseException:
            await client.aclose()
            raise
        self._taken = [limit.name for limit in taken]
        return self

    async def __aexit__(self, *exc: Any) -> None:
        client, self._async_client = self._async_client, None
        try:
            if self._taken:
                await client.release_concurrency_slots(self._taken, self.occupy)
                self._taken = []
        finally:
            await client.aclose()


def _make_module_callable() -> None:
    """``partita.concurrency(...)`` works even once ``partita.concurrency`` names this module
    (``import partita.concurrency`` binds the module on the package): calling it calls the class."""
    import sys
    import types

    class _CallableModule(types.ModuleType):
        def __call__(self, *args: Any, **kwargs: Any) -> concurrency:
            return concurrency(*args, **kwargs)

    sys.modules[__name__].__class__ = _CallableModule


_make_module_callable()
