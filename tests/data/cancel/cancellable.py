"""A flow whose first task sleeps in one long call (it cannot be stopped from outside) and a task that needs it."""

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


def report(flow, flow_run, state) -> None:
    print(f"on_cancellation hook: {flow_run.name} is {state.type.value}")


@flow(log_prints=True, on_cancellation=[report])
def cancellable() -> float:
    first = nap.submit(60)
    return after.submit(first).result()
