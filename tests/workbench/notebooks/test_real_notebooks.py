"""Every real notebook of tests/data (see SOURCES.md) through ``partita run`` in papermill mode.

Each one either runs to COMPLETED, or fails with our error naming the cell and
what the notebook raised. The runs go in parallel (a few at a time, the
sleeping ones first) in fresh processes and homes, each on a copy of the
notebook in a temporary folder (some write files next to themselves); each
test waits for its own run. Every run must leave the notebook's bytes as they
were.

The test environment installs no data-science packages and has no network:
notebooks that import pandas, numpy or matplotlib fail at that import, and
``pip3`` / ``pip`` are replaced on the kernel's PATH by a script that refuses
(so the Elyra notebooks' ``!pip3 install`` cells install nothing). The Elyra
``load_data`` notebook downloads its data set from ``DATASET_URL``, served
here from 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import re
import shutil
import tarfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from support.cli import run_cli

NOTEBOOKS = Path(__file__).parents[2] / "data" / "notebooks"
CELL = r"at cell {} \(0-based, counting all cells of the notebook\)"


@dataclass(frozen=True)
class Case:
    """A notebook, how to run it, and what must happen.

    ``outcome`` is ``"Completed"`` or a regular expression the FAILED run's
    message must match.
    """

    path: str  # under tests/data/notebooks
    outcome: str
    env: dict[str, str] = field(default_factory=dict)
    params: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.path.rsplit("/", 1)[-1].removesuffix(".ipynb").replace(" ", "_")


def module_missing(cell: int, line: int, module: str) -> str:
    return rf"failed {CELL.format(cell)}, line {line}: ModuleNotFoundError: No module named '{module}'"


FALLBACK = {"PARTITA_NOTEBOOK_FALLBACK_KERNEL": "python3"}
ELYRA = "cases/elyra-examples-generic-pipeline"

CASES = [  # the slow ones first: they mostly sleep
    Case("cases/papermill/keyboard_interrupt.ipynb", "Completed"),  # sleep(60)
    Case("cases/nbclient/Parallel Execute A.ipynb", "Completed", {"NBEXECUTE_TEST_PARALLEL_TMPDIR": "{shared}"}),
    Case("cases/nbclient/Parallel Execute B.ipynb", "Completed", {"NBEXECUTE_TEST_PARALLEL_TMPDIR": "{shared}"}),
    Case("cases/papermill/gcs-simple_notebook.ipynb", "Completed"),  # sleep(10), streams over 4 s
    Case("cases/nbclient/Sleep1s.ipynb", "Completed"),
    Case("cases/nbclient/Autokill.ipynb", rf"the kernel died while running cell 0 \(0-based"),
    Case("cases/papermill/test_logging.ipynb", module_missing(2, 3, "ggplot")),
    Case("cases/papermill/highlight_dates.ipynb", module_missing(4, 1, "pandas"),
         params=("start_date=2012-01-01", "stop_date=2013-01-01")),
    Case("cases/ploomber-projects-report-generation/tasks/notebook.ipynb", module_missing(0, 1, "pandas")),
    Case("cases/python4datascience/date-time.ipynb", module_missing(2, 1, "pandas"), FALLBACK),  # kernel python-38
    Case(f"{ELYRA}/load_data.ipynb", "Completed", {"DATASET_URL": "{dataset_url}"}),
    Case(f"{ELYRA}/Part 1 - Data Cleaning.ipynb", module_missing(2, 2, "numpy")),
    Case(f"{ELYRA}/Part 2 - Data Analysis.ipynb", module_missing(2, 2, "matplotlib")),
    Case(f"{ELYRA}/Part 3 - Time Series Forecasting.ipynb", module_missing(2, 1, "matplotlib")),
    Case("simple_execute.ipynb", "Completed", params=("msg=from partita",)),
    Case("broken1.ipynb", rf"failed {CELL.format(6)}, line 1: AssertionError"),
    Case("complex_parameters.ipynb", rf"failed {CELL.format(0)}, line 14: SyntaxError: invalid syntax"),
    Case("Unicode.ipynb", "Completed"),  # no kernelspec: python3
    Case("input.ipynb", "Completed", FALLBACK, ("salutation=Hello", "name=Ada")),  # kernel python311
    Case("side_effects.ipynb", "Completed"),
]


def _dataset() -> bytes:
    """A small stand-in for the NOAA JFK weather archive (same layout, three rows)."""
    csv = b"STATION,DATE,HOURLYDRYBULBTEMPF\nWBAN:94789,2010-01-01T01:00:00,33\nWBAN:94789,2010-01-01T02:00:00,32\n"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("noaa-weather-data-jfk-airport/jfk_weather.csv")
        info.size = len(csv)
        tar.addfile(info, io.BytesIO(csv))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def dataset_url(tmp_path_factory):
    """``http://127.0.0.1:PORT/noaa-weather-data-jfk-airport.tar.gz`` served by http.server."""
    root = tmp_path_factory.mktemp("dataset")
    (root / "noaa-weather-data-jfk-airport.tar.gz").write_bytes(_dataset())

    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map = {".gz": "application/x-tar"}  # the notebook extracts what is sent as a tar

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/noaa-weather-data-jfk-airport.tar.gz"
    server.shutdown()


@dataclass
class Started:
    notebook: Path
    home: Path
    digest: str
    future: Future


@pytest.fixture(scope="module")
def runs(tmp_path_factory, dataset_url):
    """Start every case's ``partita run`` (four at a time); {case id: Started}."""
    base = tmp_path_factory.mktemp("real-notebooks")
    shared = base / "parallel"
    shared.mkdir()
    no_pip = base / "bin"
    no_pip.mkdir()
    for name in ("pip", "pip3"):
        script = no_pip / name
        script.write_text('#!/bin/sh\necho "pip is disabled in the test environment: $*" >&2\nexit 1\n')
        script.chmod(0o755)
    import os

    path_env = f"{no_pip}{os.pathsep}{os.environ.get('PATH', '')}"
    pool = ThreadPoolExecutor(max_workers=4)
    started: dict[str, Started] = {}
    for case in CASES:
        folder = base / case.id
        notebook = folder / Path(case.path).name
        folder.mkdir()
        shutil.copyfile(NOTEBOOKS / case.path, notebook)
        env = {k: v.format(shared=shared, dataset_url=dataset_url) for k, v in case.env.items()}
        env.update({"PARTITA_HOME": str(folder / "home"), "PATH": path_env})
        args = ["run", str(notebook)] + [arg for p in case.params for arg in ("-p", p)]
        digest = hashlib.sha256(notebook.read_bytes()).hexdigest()
        started[case.id] = Started(notebook, folder / "home", digest, pool.submit(run_cli, *args, env=env, timeout=240))
    yield started
    pool.shutdown(wait=True)


def test_every_shared_case_notebook_is_covered():
    """One case per notebook of the shared cases (same file names as their SOURCES.md)."""
    assert len(CASES) == 20 and len({case.id for case in CASES}) == 20


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_real_notebook(case: Case, runs):
    run = runs[case.id]
    result = run.future.result()
    output = result.stdout + result.stderr
    flat = re.sub(r"\s*\n\s*", " ", output)
    assert hashlib.sha256(run.notebook.read_bytes()).hexdigest() == run.digest, "the source notebook was modified"
    run_id = re.search(r"flow-run inspect ([0-9a-f-]{36})", output).group(1)
    executed = list((run.home / "storage" / "runs" / run_id).glob("*.ipynb"))
    assert len(executed) == 1, output  # the executed notebook is kept, whatever happened
    nbformat.read(executed[0], as_version=4)
    if case.outcome == "Completed":
        assert result.returncode == 0, output
        assert "finished in state Completed" in output
    else:
        assert result.returncode == 1, output
        assert "finished in state Failed" in output
        assert re.search(case.outcome, flat), flat
        assert f"notebook '{run.notebook}'" in flat


def test_side_effects_land_in_the_notebook_folder(runs):
    run = runs["side_effects"]
    run.future.result()
    assert (run.notebook.parent / "output_side_effect.txt").read_text() == (
        "This file is a test side effect created by the notebook."
    )


def test_the_elyra_data_set_is_downloaded_and_extracted(runs):
    run = runs["load_data"]
    run.future.result()
    assert (run.notebook.parent / "data" / "noaa-weather-data-jfk-airport" / "jfk_weather.csv").is_file()
