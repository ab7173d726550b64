"""Flows whose first task sleeps in one long call (it cannot be stopped from outside) and a task that needs it.

``sleepy`` is interrupted by signals (test_interrupts); ``cancellable``, with
an ``on_cancellation`` hook, is cancelled through the API (test_cancel), and so
is ``dozing``, which calls the sleeping task in the flow's own thread (also
with an ``on_cancellation`` hook slower than the grace ``partita run`` gives it).
"""

import time

from partita import flow, task


@task
def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@task
def after(x: float) -> float:
    print("AFTER RAN")
    return x


@flow(log_prints=True)
def sleepy() -> float:
    first = nap.submit(60)
    return after.submit(first).result()


def report(flow, flow_run, state) -> None:
    print(f"on_cancellation hook: {flow_run.name} is {state.type.value}")


cancellable = sleepy.with_options(name="cancellable", on_cancellation=[report])


@flow
def dozing() -> float:
    return nap(60)


def slow_report(flow, flow_run, state) -> None:
    time.sleep(3)  # longer than the grace partita run gives a stuck flow thread
    print(f"slow on_cancellation hook done: {state.type.value}", flush=True)


dozing_with_slow_hook = dozing.with_options(name="dozing-with-slow-hook", on_cancellation=[slow_report])
