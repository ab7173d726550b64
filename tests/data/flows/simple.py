"""Small flows used by the CLI tests."""

from partita import flow, get_run_logger, task


@task(persist_result=True)
def square(x: int) -> int:
    return x * x


@task
def total(values: list[int]) -> int:
    get_run_logger().info("adding %d values", len(values))
    return sum(values)


@flow
def squares(n: int = 3) -> int:
    return total(square.map(range(n)).result())


@task
def explode() -> None:
    raise ZeroDivisionError("the sky fell")


@flow
def broken() -> None:
    explode()


not_a_flow = 42


def plain_function() -> None:
    """Callable, but not decorated with @flow."""
