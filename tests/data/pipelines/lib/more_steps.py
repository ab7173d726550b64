"""A task module loaded by file path (``lib/more_steps.py:double``)."""


def double(x: int) -> int:
    return 2 * x
