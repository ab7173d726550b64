"""A flow whose first task sleeps in Python (it cannot be stopped) and a task that needs it."""

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
