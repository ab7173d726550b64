"""The two drivers of the run engines: one blocking, one async.

An engine (:class:`partita.engine.task_engine.TaskRunEngine` or
:class:`partita.engine.flow_engine.FlowRunEngine`) holds all decisions —
states, retries, results — and performs no waiting of its own; these loops only
call the user's function, sleep between retries and hand outcomes back:

* ``setup()`` returns a final state when the run must not start (bad
  parameters, failed upstream), else ``None``;
* each attempt: ``begin_attempt()``, which returns ``None`` to go on, a
  number of seconds to wait before asking again (the server said WAIT: a
  concurrency limit is full) or ``STOP`` when the run is over unstarted; then inside ``attempt()`` the call and
  ``handle_success(value)`` or ``handle_exception(exc)``, which return the
  delay before a retry, ``None`` when done, or ``RAISE`` to re-raise;
* ``abandoned()`` says, after a retry delay, that no further attempt may
  start (the flow run was interrupted);
* ``finish()`` returns the final state.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from partita.engine.common import RAISE, STOP, call_async, call_sync
from partita.states import State


def drive_sync(engine: Any) -> State:
    """Run ``engine`` to its final state, blocking this thread."""
    if engine.setup() is None:
        while True:
            wait = engine.begin_attempt()
            if wait is STOP:
                break
            if wait is not None:
                time.sleep(wait)
                if engine.abandoned():
                    break
                continue
            with engine.attempt():
                try:
                    value = call_sync(engine.fn, engine.args, engine.kwargs, engine.timeout_seconds, engine.label)
                    delay = engine.handle_success(value)
                except BaseException as exc:
                    delay = engine.handle_exception(exc)
                    if delay is RAISE:
                        raise
            if delay is None:
                break
            time.sleep(delay)
            if engine.abandoned():
                break
    return engine.finish()


async def drive_async(engine: Any) -> State:
    """Run ``engine`` to its final state on the running event loop."""
    if engine.setup() is None:
        while True:
            wait = engine.begin_attempt()
            if wait is STOP:
                break
            if wait is not None:
                await asyncio.sleep(wait)
                if engine.abandoned():
                    break
                continue
            with engine.attempt():
                try:
                    value = await call_async(engine.fn, engine.args, engine.kwargs, engine.timeout_seconds, engine.label)
                    delay = engine.handle_success(value)
                except BaseException as exc:
                    delay = engine.handle_exception(exc)
                    if delay is RAISE:
                        raise
            if delay is None:
                break
            await asyncio.sleep(delay)
            if engine.abandoned():
                break
    return engine.finish()
