"""The Jupyter kernels of one cells-mode flow run: a bounded set, started ahead and reused.

A kernel costs about a second of CPU to start. Starting one per task would
put that second on the critical path of every task and, with many
independent tasks, start more kernels than the machine has cores. A
:class:`KernelPool` holds at most ``size`` kernels (default
:func:`default_size`: the CPUs this process may use, at least 2;
``PARTITA_CELLS_KERNELS`` or ``partita run --kernels N`` choose another
number). The first task that asks for one starts as many as the pool may
hold (no more than the tasks left), so later tasks find them warm.

A task takes a free kernel, waiting while all are busy (this bounds the
kernels running at once), runs on it, and gives it back:

* after a normal end its work has reset the kernel (the runtime's reset:
  IPython's ``%reset -f``, execution count back to 1, and the working
  directory, environment variables, ``sys.path``, standard streams and
  loaded extensions as they were when the kernel started), so the kernel goes back to the pool and
  the next task runs its setup cells, parameters and inputs on it as on a new
  kernel;
* a kernel whose task failed, timed out, was cancelled or interrupted, whose
  kernel died, or that could not be reset is shut down, never reused; a new
  one is started in its place while tasks remain.

:meth:`KernelPool.close` (at the end of the flow run, normal or not) shuts
every kernel down, busy ones included, and waits until they are gone.

Each :class:`WarmKernel` owns a thread running its own event loop: the
kernel manager, the client's ZeroMQ sockets and the cell execution all live
on that loop (asyncio and ZeroMQ objects must stay on the loop that made
them); the task's thread hands it the work, in a copy of its context (so
the work knows its task run), and waits for the answer.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import contextvars
import os
import threading
from typing import Any, Awaitable, Callable

from partita.exceptions import RunError

__all__ = ["WarmKernel", "KernelPool", "KernelPoolClosed", "default_size"]

_CLOSE_GRACE = 10.0
"""Seconds :meth:`WarmKernel.close` lets the work of a killed kernel unwind before cancelling it."""

Work = Callable[[Any], Awaitable[tuple[Any, bool]]]
"""``work(kernel_manager) -> (value, reusable)``: a task's run on a kernel, and whether the kernel may be reused."""


def default_size() -> int:
    """Kernels a cells-mode flow run keeps: ``PARTITA_CELLS_KERNELS``, else the usable CPUs, at least 2."""
    from partita.settings import get_settings

    configured = get_settings().cells_kernels
    if configured is not None:
        return configured
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(2, cpus)


class KernelPoolClosed(RunError):
    """A task asked for a kernel after its flow run's kernels were shut down (the run is ending)."""


class WarmKernel:
    """One kernel, started at once on its own event-loop thread.

    Args:
        kernel_name: kernelspec name.
        cwd: the kernel's working directory.
    """

    def __init__(self, kernel_name: str, cwd: str) -> None:
        self.kernel_name = kernel_name
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=f"partita-kernel-{kernel_name}", daemon=True)
        self._thread.start()
        self._started = asyncio.run_coroutine_threadsafe(self._start(cwd), self.loop)
        self._lock = threading.Lock()
        self._closed = False
        self._running: asyncio.Task | None = None
        self._outcome: cf.Future | None = None
        self.km: Any = None

    def ready(self) -> bool:
        """Whether the kernel has started (or failed to)."""
        return self._started.done()

    async def _start(self, cwd: str) -> None:
        from jupyter_client.manager import AsyncKernelManager

        from partita_workbench.notebooks.kernels import use_unix_sockets

        km = use_unix_sockets(AsyncKernelManager(kernel_name=self.kernel_name))
        await km.start_kernel(cwd=cwd)
        self.km = km

    def call(self, work: Work) -> tuple[Any, bool]:
        """Run ``work(kernel_manager)`` on this kernel's loop, in a copy of the caller's context; blocks.

        Raises:
            Exception: whatever ``work`` or the kernel's start raised;
                ``concurrent.futures.CancelledError`` when the kernel was
                closed and the work did not end within the grace time.
        """
        self._started.result()
        context = contextvars.copy_context()
        outcome: cf.Future = cf.Future()

        def start() -> None:
            task = self.loop.create_task(work(self.km), context=context)
            self._running = task

            def done(t: asyncio.Task) -> None:
                if t.cancelled():
                    outcome.cancel()
                elif t.exception() is not None:
                    outcome.set_exception(t.exception())  # type: ignore[arg-type]
                else:
                    outcome.set_result(t.result())

            task.add_done_callback(done)

        self._outcome = outcome
        try:
            self.loop.call_soon_threadsafe(start)
            return outcome.result()
        finally:
            self._outcome = None

    async def _shutdown(self) -> None:
        try:
            await asyncio.wrap_future(self._started)
        except Exception:
            return
        km = self.km
        if km is None:
            return
        if await km.is_alive():
            await km.shutdown_kernel(now=True)
        else:  # it died: still remove its connection file and sockets
            await km.cleanup_resources()

    def kill(self) -> None:
        """Stop the kernel process now, from any thread; returns at once (the running work sees a dead kernel)."""
        if not self.loop.is_closed():
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop)
            except RuntimeError:  # the loop closed meanwhile
                pass

    def close(self) -> None:
        """Shut the kernel down (if it started) and stop the loop thread; idempotent, from any thread.

        Work still running on the kernel sees it die and ends (a failure);
        after ``_CLOSE_GRACE`` seconds it is cancelled.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
        outcome = self._outcome
        if outcome is not None and not outcome.done():
            self.kill()
            try:
                outcome.exception(timeout=_CLOSE_GRACE)
            except (cf.TimeoutError, cf.CancelledError):
                running = self._running
                if running is not None:
                    self.loop.call_soon_threadsafe(running.cancel)
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(timeout=30)
        except Exception:
            pass
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=5)
            if not self._thread.is_alive():
                self.loop.close()


class KernelPool:
    """At most ``size`` kernels shared by the cells tasks of one flow run (see the module docstring).

    Args:
        kernel_name: kernelspec name of every kernel.
        cwd: their working directory.
        expected: how many tasks may take a kernel in all (the flow's task
            count); no more kernels than that are kept.
        size: the most kernels alive at once (at least 1); default
            :func:`default_size`.

    Attributes:
        started: how many kernels the pool has started so far.
    """

    def __init__(self, kernel_name: str, cwd: str, expected: int, size: int | None = None) -> None:
        self.kernel_name, self.cwd = kernel_name, cwd
        self.size = max(1, size if size is not None else default_size())
        self._cond = threading.Condition()
        self._idle: list[WarmKernel] = []
        self._busy: set[WarmKernel] = set()
        self._left = expected  # tasks that may still ask for a kernel
        self._closed = False
        self._closers: list[threading.Thread] = []
        self.started = 0

    def _refill(self) -> None:
        """Start kernels while there is room and tasks left to use them (lock held)."""
        while not self._closed and len(self._idle) + len(self._busy) < self.size and len(self._idle) < self._left:
            self._idle.append(self._new())

    def _new(self) -> WarmKernel:
        self.started += 1
        return WarmKernel(self.kernel_name, self.cwd)

    def take(self) -> WarmKernel:
        """A free kernel (the one given back last, else one started ahead); waits while ``size`` kernels are busy.

        Raises:
            KernelPoolClosed: the pool was closed (the flow run is ending).
        """
        with self._cond:
            self._refill()
            while not self._closed and not self._idle and len(self._busy) >= self.size:
                self._cond.wait()
            if self._closed:
                raise KernelPoolClosed("the flow run's kernels were shut down before this task could start")
            self._left = max(0, self._left - 1)
            kernel = self._pick() if self._idle else self._new()
            self._busy.add(kernel)
            return kernel

    def _pick(self) -> WarmKernel:
        """The free kernel given back last among those up (lock held): a started one before one still starting."""
        ready = [i for i, k in enumerate(self._idle) if k.ready()]
        return self._idle.pop(ready[-1] if ready else -1)

    def give_back(self, kernel: WarmKernel, reusable: bool) -> None:
        """Return a kernel taken with :meth:`take`: to the free ones when ``reusable``, else shut it down."""
        with self._cond:
            self._busy.discard(kernel)
            keep = reusable and not self._closed
            if keep:
                self._idle.append(kernel)
            else:
                self._close_later(kernel)
            self._refill()
            self._cond.notify_all()

    def run(self, work: Work) -> Any:
        """Run ``work(kernel_manager)`` on a free kernel and return its value (blocks).

        ``work`` returns ``(value, reusable)``; the kernel goes back to the
        pool only when ``reusable`` is true, ``work`` raised nothing, and the
        task run was not cancelled meanwhile (a timeout or an interrupt,
        which also kills the kernel at once).

        Raises:
            KernelPoolClosed: the pool was closed.
            Exception: whatever ``work`` or the kernel's start raised.
        """
        from partita.engine.interrupts import on_cancel

        kernel = self.take()
        reusable = False
        try:
            with on_cancel(kernel.kill) as scope:
                value, reusable = kernel.call(work)
                if scope is not None and scope.reason is not None:
                    reusable = False
            return value
        finally:
            self.give_back(kernel, reusable)

    def _close_later(self, kernel: WarmKernel) -> None:
        """Shut ``kernel`` down on a thread of its own (off the task's critical path); :meth:`close` joins it."""
        closer = threading.Thread(target=kernel.close, name="partita-kernel-shutdown", daemon=True)
        closer.start()
        self._closers.append(closer)

    def close(self) -> None:
        """Shut every kernel down, busy ones included, and wait until all are down; idempotent.

        Tasks waiting for a kernel get :class:`KernelPoolClosed`; tasks
        running on one see their kernel die.
        """
        with self._cond:
            self._closed = True
            kernels, self._idle = [*self._idle, *self._busy], []
            for kernel in kernels:
                self._close_later(kernel)
            self._cond.notify_all()
            closers = list(self._closers)
        for closer in closers:
            closer.join(timeout=_CLOSE_GRACE + 40)
