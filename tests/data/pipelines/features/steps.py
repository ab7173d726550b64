"""Python tasks of the features test pipeline."""

from pathlib import Path


def numbers(count: int) -> list[int]:
    return list(range(count))


def square(x: int) -> int:
    return x * x


def total(values: list[int]) -> int:
    return sum(values)


def echo(**kwargs):
    return kwargs


def flaky(marker: str) -> str:
    """Fails on its first attempt (leaves a marker file), succeeds on the next."""
    path = Path(marker)
    if not path.exists():
        path.write_text("tried")
        raise RuntimeError("first attempt fails")
    return "second attempt"
