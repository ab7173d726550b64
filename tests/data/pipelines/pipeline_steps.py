"""Python tasks used by the test pipelines in this folder."""

from __future__ import annotations

import time

import fsspec
import nbformat


def numbers(count: int) -> list[int]:
    return list(range(count))


def total(values: list[int]) -> int:
    return sum(values)


def echo_kwargs(**kwargs):
    return kwargs


def stamp(label: str, sleep: float = 0.0) -> dict:
    start = time.time()
    time.sleep(sleep)
    return {"label": label, "start": start, "end": time.time()}


async def async_double(x: int) -> int:
    return 2 * x


def notebook_stdout(notebook: str) -> str:
    with fsspec.open(notebook, "r", encoding="utf-8") as file:
        executed = nbformat.read(file, as_version=4)
    return "".join(
        o.get("text", "") for c in executed.cells for o in c.get("outputs", []) if o.get("output_type") == "stream"
    ).strip()
