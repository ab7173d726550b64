"""Python tasks used by the invalid pipelines (only the module must import)."""


def add(x, y):
    return x + y


def greet(who):
    return f"Hello, {who}!"
