"""Python tasks of the incremental-run test pipeline."""


def greeting(who: str) -> str:
    return f"Hello, {who}!"


def shout(text: str) -> str:
    return text.upper()


def printed(notebook: str) -> str:
    import nbformat

    cells = nbformat.read(notebook, as_version=4).cells
    return "".join(o.get("text", "") for c in cells if c.cell_type == "code" for o in c.get("outputs", [])).strip()
