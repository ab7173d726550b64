"""Kernels started ahead of need, so a cells task rarely waits for its kernel to boot.

A kernel takes about a second to start; a task would otherwise pay it on the
critical path after its upstream tasks finish. A :class:`KernelPool` keeps a
few kernels starting in the background while earlier tasks run; a task takes
one (or starts its own when none is ready) and the pool starts the next.
Each kernel is used by exactly one task run and shut down after it, so every
task still gets a fresh namespace.

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
import threading
from typing import Any, Awaitable, Callable

__all__ = ["WarmKernel", "KernelPool"]


class WarmKernel:
    """One kernel, started at once on its own event-loop thread.

    Args:
        kernel_name: kernelspec name.
        cwd: the kernel's working directory.
        closers: when given, the kernel is shut down on a thread added to
            this list once its work is done (off the task's critical path;
            the owner joins the threads); otherwise before :meth:`run` returns.
    """

    def __init__(self, kernel_name: str, cwd: str, closers: list[threading.Thread] | None = None) -> None:
        self.kernel_name = kernel_name
        self._closers = closers
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=f"partita-kernel-{kernel_name}", daemon=True)
        self._thread.start()
        self._started = asyncio.run_coroutine_threadsafe(self._start(cwd), self.loop)
        self.km: Any = None

    async def _start(self, cwd: str) -> None:
        from jupyter_client.manager import AsyncKernelManager

        from partita_workbench.notebooks.kernels import use_unix_sockets

        km = use_unix_sockets(AsyncKernelManager(kernel_name=self.kernel_name))
        await km.start_kernel(cwd=cwd)
        self.km = km

    def run(self, work: Callable[[Any], Awaitable[Any]]) -> Any:
        """Run ``work(kernel_manager)`` on this kernel's loop and return its result (blocks).

        The kernel is shut down afterwards, whatever happens (see ``closers``).

        Raises:
            Exception: whatever ``work`` or the kernel's start raised.
        """
        try:
            self._started.result()
            return self._call_in_context(work)
        finally:
            if self._closers is None:
                self.close()
            else:
                closer = threading.Thread(target=self.close, name="partita-kernel-shutdown", daemon=True)
                closer.start()
                self._closers.append(closer)

    def _call_in_context(self, work: Callable[[Any], Awaitable[Any]]) -> Any:
        """Run ``work`` on the loop in a copy of the caller's context (its task run, its logger)."""
        context = contextvars.copy_context()
        outcome: cf.Future = cf.Future()

        def start() -> None:
            task = self.loop.create_task(work(self.km), context=context)

            def done(t: asyncio.Task) -> None:
                if t.cancelled():
                    outcome.cancel()
                elif t.exception() is not None:
                    outcome.set_exception(t.exception())  # type: ignore[arg-type]
                else:
                    outcome.set_result(t.result())

            task.add_done_callback(done)

        self.loop.call_soon_threadsafe(start)
        return outcome.result()

    def close(self) -> None:
        """Shut the kernel down (if it started) and stop the loop thread."""
        if self.loop.is_closed():
            return

        async def stop() -> None:
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

        try:
            asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=30)
        except Exception:
            pass
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=5)
            self.loop.close()


class KernelPool:
    """Up to ``ahead`` kernels starting in the background for the tasks still to come.

    Args:
        kernel_name: kernelspec name of every kernel.
        cwd: their working directory.
        expected: how many kernels the flow run may take in all (its task
            count); no more than that are ever started.
        ahead: how many to keep starting ahead of need.
    """

    def __init__(self, kernel_name: str, cwd: str, expected: int, ahead: int = 2) -> None:
        self.kernel_name, self.cwd = kernel_name, cwd
        self._lock = threading.Lock()
        self._ready: list[WarmKernel] = []
        self._left = expected  # kernels that may still be asked for
        self._ahead = ahead
        self._closed = False
        self._closers: list[threading.Thread] = []

    def _refill(self) -> None:
        while not self._closed and len(self._ready) < min(self._ahead, self._left):
            self._ready.append(WarmKernel(self.kernel_name, self.cwd, self._closers))

    def start(self) -> "KernelPool":
        """Start the first kernels."""
        with self._lock:
            self._refill()
        return self

    def take(self) -> WarmKernel:
        """A kernel for one task run: a warm one when ready, else a new one; starts the next."""
        with self._lock:
            self._left = max(0, self._left - 1)
            kernel = self._ready.pop(0) if self._ready else None
            if kernel is None or self._closed:
                kernel = WarmKernel(self.kernel_name, self.cwd, self._closers)
            self._refill()
        return kernel

    def close(self) -> None:
        """Shut down the kernels nobody took, and wait for every kernel to be down."""
        with self._lock:
            self._closed = True
            unused, self._ready = self._ready, []
        for kernel in unused:
            kernel.close()
        for closer in list(self._closers):
            closer.join(timeout=30)
