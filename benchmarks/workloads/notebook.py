"""A 10-cell notebook run by papermill alone or by Partita, each working cell a pure-Python loop over N numbers (default N = 4,000,000).

The notebook has a ``parameters`` cell (``n``, ``label``) and nine working
cells; cell ``i`` computes ``sum(j * i % 7 for j in range(n))`` and prints
it. At the default ``n`` a working cell takes about 0.3–0.5 s of CPU on the
project's 2-core machine: the time of a realistic data cell (a parse, a
group-by, a model fit), where running cells side by side can pay for the
kernels it needs. (With cells of ~10 ms — the first version of this notebook —
every parallel mode loses to one kernel running them in a row: starting a
kernel alone costs about a second.) Each cell keeps only its total, so the
one-kernel run holds no more memory than the parallel ones.

It is written to the current folder twice with the same sources: as is, and
with every working cell tagged ``task:cK`` (issue 5's cells-as-tasks form; the
nine tasks are independent, so they may run side by side, as many at once as
the run keeps kernels: ``PARTITA_CELLS_KERNELS``, default the CPUs).

``--system papermill`` times, in this order:

* ``papermill_s`` — ``papermill.execute_notebook(...)`` in this process;
* ``cli_s`` — ``papermill in.ipynb out.ipynb -p n N``, a fresh process.

``--system partita`` times, after starting the embedded backend (a fresh
database in ``PARTITA_HOME``):

* ``papermill_mode_s`` — ``notebook_flow(notebook)(n=N)`` in this process:
  the whole notebook as one task, on papermill, the run recorded;
* ``cells_mode_s`` — ``cells_flow(tagged notebook)(n=N)`` in this process;
* ``cli_s`` — ``partita run notebook.ipynb -p n=N``, a fresh process.

The modules both need are imported before any timing, so every figure is one
run of the notebook on a new kernel (or kernels), as a user's run is. Each
system checks that the last cell printed the right sum.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from workload_support import emit, parse_args, start_backend, timed

CELLS = 10


def write_notebooks(folder: Path, n: int) -> tuple[Path, Path]:
    """``(plain, tagged)``: the benchmark notebook and its cells-as-tasks twin."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    paths = []
    for name, tagged in (("notebook.ipynb", False), ("tasks.ipynb", True)):
        cells = [new_code_cell(f"n = {n}\nlabel = 'bench'", metadata={"tags": ["parameters"]})]
        for i in range(1, CELLS):
            source = f"total_{i} = sum(j * {i} % 7 for j in range(n))\nprint(label, {i}, total_{i})"
            cells.append(new_code_cell(source, metadata={"tags": [f"task:c{i}"]} if tagged else {}))
        path = folder / name
        nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": kernelspec}), str(path))
        paths.append(path)
    return paths[0], paths[1]


def cell_total(i: int, n: int) -> int:
    """``sum(j * i % 7 for j in range(n))`` without the loop (the residues repeat every 7)."""
    cycle = [j * i % 7 for j in range(7)]
    return sum(cycle) * (n // 7) + sum(cycle[: n % 7])


def expected_line(n: int) -> str:
    last = CELLS - 1
    return f"bench {last} {cell_total(last, n)}"


def printed(executed: str | Path, n: int) -> bool:
    """Whether the executed notebook's last cell printed the expected sum."""
    document = json.loads(Path(executed).read_text())
    text = "".join("".join(o.get("text", "")) for o in document["cells"][-1].get("outputs", []))
    return expected_line(n) in text


def _run_command(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {done.returncode}: {done.stderr[-2000:]}")


def papermill_alone(plain: Path, n: int) -> dict[str, Any]:
    import papermill

    out = plain.with_name("out.ipynb")
    papermill_s, _ = timed(lambda: papermill.execute_notebook(str(plain), str(out), parameters={"n": n}, progress_bar=False))
    correct = printed(out, n)
    cli_out = plain.with_name("cli-out.ipynb")
    cli = [str(Path(sys.executable).parent / "papermill"), "--no-progress-bar", str(plain), str(cli_out), "-p", "n", str(n)]
    cli_s, _ = timed(_run_command, cli)
    return {"papermill_s": papermill_s, "cli_s": cli_s, "correct": correct and printed(cli_out, n)}


def partita(plain: Path, tagged: Path, n: int) -> dict[str, Any]:
    import partita as sdk
    from partita_workbench.notebooks import notebook_flow
    from partita_workbench.notebooks.cells import cells_flow
    import partita_workbench.notebooks.cells.runtime  # noqa: F401  (imported before timing, as papermill is)
    import partita_workbench.notebooks.execute  # noqa: F401

    startup = start_backend(sdk)
    whole, cells = notebook_flow(plain), cells_flow(tagged)
    papermill_s, whole_state = timed(lambda: whole(n=n, return_state=True))
    cells_s, cells_state = timed(lambda: cells(n=n, return_state=True))
    for state in (whole_state, cells_state):
        if not state.is_completed():
            raise RuntimeError(f"the Partita run did not complete: {state.message}")
    cli = [str(Path(sys.executable).parent / "partita"), "run", str(plain), "-p", f"n={n}"]
    cli_s, _ = timed(_run_command, cli)
    return {
        "papermill_mode_s": papermill_s, "cells_mode_s": cells_s, "cli_s": cli_s, "startup_s": startup,
        "correct": printed(whole_state.result(), n) and printed(cells_state.result(), n),
    }


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    plain, tagged = write_notebooks(Path.cwd(), args.n)
    figures = papermill_alone(plain, args.n) if args.system == "papermill" else partita(plain, tagged, args.n)
    emit(args.system, "notebook", args.n, **figures)


if __name__ == "__main__":
    main()
