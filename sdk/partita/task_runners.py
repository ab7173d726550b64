"""Task runners: where submitted task runs execute.

:class:`ThreadPoolTaskRunner` (the default, as in Prefect 3) runs submitted
sync tasks on a thread pool and async tasks on one event loop thread shared by
the runner, so neither a thread nor an event loop is created per task.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import contextvars
import os
import threading
from typing import Any, Callable, Coroutine

__all__ = ["TaskRunner", "ThreadPoolTaskRunner"]


class TaskRunner:
    """Interface of task runners: ``start``/``shutdown`` around ``submit``."""

    def start(self) -> "TaskRunner":
        return self

    def shutdown(self) -> None:
        pass

    def cancel(self) -> None:
        """Drop submitted work that has not started and stop waiting for the rest (an interrupt)."""
        self.shutdown()

    def duplicate(self) -> "TaskRunner":
        """A fresh runner of the same configuration (one per flow run)."""
        return type(self)()

    def submit_sync(self, fn: Callable[[], Any]) -> cf.Future:
        raise NotImplementedError

    def submit_async(self, make_coro: Callable[[], Coroutine[Any, Any, Any]]) -> cf.Future:
        raise NotImplementedError

    def __enter__(self) -> "TaskRunner":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()


def _copy_outcome(inner: cf.Future, outer: cf.Future) -> None:
    """Give ``outer`` the outcome of ``inner``, unless it was resolved already."""
    try:
        if inner.cancelled():
            outer.cancel()
        elif inner.exception() is not None:
            outer.set_exception(inner.exception())
        else:
            outer.set_result(inner.result())
    except cf.InvalidStateError:
        pass


class ThreadPoolTaskRunner(TaskRunner):
    """Runs submitted tasks on threads (as Prefect's ``ThreadPoolTaskRunner``).

    Args:
        max_workers: size of the pool; default ``min(32, cpu count + 4)``, or the
            ``PARTITA_TASK_RUNNER_THREAD_POOL_MAX_WORKERS`` environment variable.
    """

    def __init__(self, max_workers: int | None = None) -> None:
        env = os.environ.get("PARTITA_TASK_RUNNER_THREAD_POOL_MAX_WORKERS")
        self.max_workers = max_workers or (int(env) if env else min(32, (os.cpu_count() or 1) + 4))
        self._pool: cf.ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def duplicate(self) -> "ThreadPoolTaskRunner":
        return ThreadPoolTaskRunner(self.max_workers)

    def submit_sync(self, fn: Callable[[], Any]) -> cf.Future:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = cf.ThreadPoolExecutor(self.max_workers, thread_name_prefix="partita-task")
        ctx = contextvars.copy_context()
        # Callers get a future of their own, so a cancelled flow run can resolve it
        # while the thread is still stuck in user code (see engine.cancellation).
        future: cf.Future = cf.Future()
        self._pool.submit(ctx.run, fn).add_done_callback(lambda inner: _copy_outcome(inner, future))
        return future

    def submit_async(self, make_coro: Callable[[], Coroutine[Any, Any, Any]]) -> cf.Future:
        loop = self._event_loop()
        ctx = contextvars.copy_context()
        future: cf.Future = cf.Future()

        def start() -> None:
            task = loop.create_task(make_coro(), context=ctx)

            def done(t: asyncio.Task) -> None:
                try:
                    if t.cancelled():
                        future.cancel()
                    elif t.exception() is not None:
                        future.set_exception(t.exception())  # type: ignore[arg-type]
                    else:
                        future.set_result(t.result())
                except cf.InvalidStateError:  # resolved by a cancelled flow run
                    pass

            task.add_done_callback(done)

        loop.call_soon_threadsafe(start)
        return future

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            with self._lock:
                if self._loop is None:
                    loop = asyncio.new_event_loop()
                    thread = threading.Thread(target=loop.run_forever, name="partita-async-tasks", daemon=True)
                    thread.start()
                    self._loop, self._loop_thread = loop, thread
        return self._loop

    def cancel(self) -> None:
        """Cancel queued task runs, cancel the running async ones, and return at once.

        Sync task runs already running go on in their threads (their child
        processes are stopped through :mod:`partita.engine.interrupts`).
        """
        pool, loop = self._pool, self._loop
        self._pool = self._loop = None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        if loop is not None and not loop.is_closed():

            def cancel_tasks() -> None:
                for task in asyncio.all_tasks(loop):
                    task.cancel()
                loop.call_soon(loop.stop)

            try:
                loop.call_soon_threadsafe(cancel_tasks)
            except RuntimeError:
                pass

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._loop_thread is not None:
                self._loop_thread.join(timeout=5)
            self._loop.close()
            self._loop = None
