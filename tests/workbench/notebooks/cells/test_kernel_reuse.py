"""A cells run's kernels: a bounded set, reset and reused after a normal end, replaced after any failure."""

from __future__ import annotations

import json
import os
import threading
import time

import nbformat
import psutil
import pytest

from partita.exceptions import ConfigurationError
from partita.settings import get_settings

from partita_workbench.notebooks.cells import cells_flow
from partita_workbench.notebooks.cells.pool import KernelPool, KernelPoolClosed, default_size
from support.cli import run_cli
from support.notebooks import make_notebook


def running_kernels() -> set[int]:
    """Running kernels below this process (kernels of earlier tests may end while we look)."""
    found = set()
    for process in psutil.Process().children(recursive=True):
        try:
            if process.status() != psutil.STATUS_ZOMBIE and "ipykernel" in " ".join(process.cmdline()):
                found.add(process.pid)
        except psutil.NoSuchProcess:  # ended between the listing and the look (a zombie too)
            pass
    return found


async def pid(km):
    return km.provisioner.pid, True


def pid_then(reusable: bool = True, fail: bool = False, sleep: float = 0.0):
    async def work(km):
        import asyncio

        await asyncio.sleep(sleep)
        if fail:
            raise RuntimeError("the task failed")
        return km.provisioner.pid, reusable
    return work


def streams(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


PROBE = (
    "import json, os, sys\n"
    "print(json.dumps({'pid': os.getpid(), 'names': sorted(k for k in globals() if not k.startswith('_')),"
    " 'cwd': os.getcwd(), 'env': os.environ.get('PARTITA_TEST_LEAK'), 'path': '/leak' in sys.path,"
    " 'count': get_ipython().execution_count}))"
)


def probe(cell) -> dict:
    return json.loads(streams(cell).strip().splitlines()[-1])


def test_a_reused_kernel_shows_a_task_only_setup_and_its_upstream_values(tmp_path, fresh_home):
    """With one kernel every task runs on the same process; names of other tasks are gone."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    path = make_notebook(tmp_path / "nb.ipynb", [
        "import math\nLIMIT = 3",
        ("n = 2", ["parameters"]),
        f"# task: a\nsecret = 'from a'\nshared = [1, 2]\nimport os, sys\nos.chdir({str(elsewhere)!r})\n"
        "os.environ['PARTITA_TEST_LEAK'] = 'yes'\nsys.path.append('/leak')\nprint(os.getpid())",
        "# task: b\nshared.append(n)\n" + PROBE,
        # after b (needs:), reading nothing: none of a's or b's names may be visible
        ("print(sorted(k for k in globals() if not k.startswith('_')))", ["task:c", "needs:b"]),
    ])
    state = cells_flow(path, kernels=1)(return_state=True)
    assert state.is_completed(), state.message
    cells = nbformat.read(state.result(), as_version=4).cells  # setup, parameters, injected, a, b, c

    seen = probe(cells[4])
    assert seen["pid"] == int(streams(cells[3]).strip()), "b did not reuse a's kernel"
    ipython = ["In", "Out", "exit", "quit", "get_ipython", "open"]
    # setup, the parameter, the value read through the edge, b's own imports and IPython's names; not `secret`
    assert seen["names"] == sorted([*ipython, "math", "LIMIT", "n", "shared", "json", "os", "sys"])
    assert seen["cwd"] == str(tmp_path) and seen["env"] is None and seen["path"] is False
    assert seen["count"] == 4  # setup 1, parameters 2, b 3: as on a new kernel
    assert cells[3].execution_count == cells[4].execution_count == cells[5].execution_count == 3
    assert streams(cells[5]) == repr(sorted([*ipython, "math", "LIMIT", "n"])) + "\n"


def test_a_kernel_with_an_extension_it_cannot_unload_is_replaced(tmp_path, fresh_home):
    path = make_notebook(tmp_path / "nb.ipynb", [
        "%load_ext autoreload",  # autoreload has no unload function
        "# task: a\nimport os\nx = os.getpid()",
        "# task: b\nprint(x != os.getpid())",
    ])
    state = cells_flow(path, kernels=1)(return_state=True)
    assert state.is_completed(), state.message
    cells = nbformat.read(state.result(), as_version=4).cells
    assert streams(cells[2]) == "True\n"  # b ran on a new kernel
    assert all("already loaded" not in streams(c) for c in cells)


def test_independent_tasks_share_a_bounded_set_of_kernels(tmp_path, fresh_home, client):
    path = make_notebook(tmp_path / "nb.ipynb", [
        f"# task: t{i}\nimport os, time\ntime.sleep(0.3)\nprint(os.getpid())" for i in range(5)
    ])
    before = running_kernels()
    state = cells_flow(path, kernels=2)(return_state=True)
    assert state.is_completed(), state.message
    pids = {streams(c).strip() for c in nbformat.read(state.result(), as_version=4).cells}
    assert len(pids) == 2  # two kernels, each used by several tasks (the pool starts no more)
    runs = client.read_task_runs(state.state_details["flow_run_id"])
    assert all(r.state_name == "Completed" for r in runs)
    assert not {int(p) for p in pids} & running_kernels() and running_kernels() - before == set()


def test_a_kernel_is_reused_after_a_normal_end_and_replaced_after_a_failure(tmp_path):
    pool = KernelPool("python3", str(tmp_path), expected=4, size=1)
    try:
        first = pool.run(pid_then())
        assert pool.run(pid_then()) == first  # reset and given back: the same process
        with pytest.raises(RuntimeError, match="the task failed"):
            pool.run(pid_then(fail=True))
        replaced = pool.run(pid_then(reusable=False))  # a kernel whose reset failed is not reused either
        assert replaced != first
        assert pool.run(pid_then()) not in (first, replaced)
        assert not {first, replaced} & running_kernels()
        assert pool.started == 3
    finally:
        pool.close()


def test_tasks_wait_for_a_free_kernel_and_close_stops_busy_ones(tmp_path):
    before = running_kernels()
    pool = KernelPool("python3", str(tmp_path), expected=3, size=1)
    spans: list[tuple[float, float]] = []

    def task() -> None:
        started = time.monotonic()
        pool.run(pid_then(sleep=0.5))
        spans.append((started, time.monotonic()))

    threads = [threading.Thread(target=task) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    (s1, e1), (s2, e2) = sorted(spans, key=lambda span: span[1])
    assert e2 - e1 >= 0.45  # the second waited for the first's kernel
    assert pool.started == 1

    outcome: dict = {}

    def busy() -> None:
        async def forever(km):
            import asyncio

            while await km.is_alive():
                await asyncio.sleep(0.1)
            raise RuntimeError("kernel died")
        try:
            pool.run(forever)
        except BaseException as exc:
            outcome["error"] = exc

    runner = threading.Thread(target=busy)
    runner.start()
    time.sleep(2)
    pool.close()  # an interrupted flow run: the busy kernel is shut down and its task ends
    runner.join(20)
    assert not runner.is_alive() and "kernel died" in str(outcome["error"])
    with pytest.raises(KernelPoolClosed):
        pool.take()
    assert running_kernels() - before == set()


def test_the_number_of_kernels_comes_from_the_setting_or_the_cpus(tmp_path, monkeypatch):
    monkeypatch.setenv("PARTITA_CELLS_KERNELS", "3")
    get_settings.cache_clear()
    assert default_size() == 3
    monkeypatch.setenv("PARTITA_CELLS_KERNELS", "0")
    get_settings.cache_clear()
    with pytest.raises(ConfigurationError, match="PARTITA_CELLS_KERNELS"):
        default_size()
    monkeypatch.delenv("PARTITA_CELLS_KERNELS")
    get_settings.cache_clear()
    assert default_size() == max(2, len(os.sched_getaffinity(0)))
    path = make_notebook(tmp_path / "nb.ipynb", ["# task: a\nx = 1"])
    with pytest.raises(ConfigurationError, match="at least 1 kernel"):
        cells_flow(path, kernels=0)


def test_partita_run_kernels_option(notebooks_dir, tmp_path):
    env = {"PARTITA_HOME": str(tmp_path / "home")}
    path = str(notebooks_dir / "cells" / "diamond.ipynb")
    one = run_cli("run", path, "--kernels", "1", env=env)
    assert one.returncode == 0, one.stderr
    assert "finished in state Completed" in one.stdout
    whole = run_cli("run", path, "--mode", "papermill", "--kernels", "2", env=env)
    assert whole.returncode == 2 and "--kernels applies to cells mode" in whole.stderr


def test_papermill_options_on_a_cells_notebook_say_what_cells_mode_does(notebooks_dir, tmp_path):
    env = {"PARTITA_HOME": str(tmp_path / "home")}
    path = str(notebooks_dir / "cells" / "diamond.ipynb")
    refused = run_cli("run", path, "--cell-timeout", "5", env=env)
    assert refused.returncode == 2
    assert "--cell-timeout applies to papermill mode" in refused.stderr and "to use it)" in refused.stderr
    assert "kernel of the run's pool" in refused.stderr and "--mode papermill" in refused.stderr
