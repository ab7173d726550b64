"""What every workload script shares: loading the SDK under test and reporting.

A workload runs in its own process, in the venv of the system under test, and
imports nothing from the harness: it can be run by hand, e.g.

    PARTITA_HOME=$(mktemp -d) python benchmarks/workloads/flow_sequential.py --system partita --n 1000

It prints exactly one JSON object on the last line of stdout; the SDKs' own
log output goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from types import SimpleNamespace
from typing import Any


def add_one(x: int) -> int:
    """The trivial task body every workload times."""
    return x + 1


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--system", choices=("partita", "prefect", "papermill"), required=True)
    parser.add_argument("--n", type=int, required=True, help="size of the workload")
    return parser.parse_args()


def load_sdk(system: str) -> SimpleNamespace:
    """``flow``, ``task``, ``get_client`` and the INPUTS cache policy (``None`` if missing)."""
    if system == "prefect":
        from prefect import flow, task
        from prefect.cache_policies import INPUTS
        from prefect.client.orchestration import get_client

        return SimpleNamespace(flow=flow, task=task, get_client=get_client, inputs_policy=INPUTS)

    import importlib
    import inspect

    import partita

    try:
        policies = importlib.import_module("partita.cache_policies")
    except ImportError:
        policies = None
    accepts_policy = "cache_policy" in inspect.signature(partita.Task.__init__).parameters
    inputs = getattr(policies, "INPUTS", None) if accepts_policy else None
    return SimpleNamespace(flow=partita.flow, task=partita.task, get_client=partita.get_client, inputs_policy=inputs)


def start_backend(sdk: SimpleNamespace) -> float:
    """Bring the backend up on the fresh home (database created, server started); seconds taken.

    Done before any timed region, the same way for both systems: a client's
    health check. Prefect starts its temporary server here; Partita starts its
    in-process backend. Both create and migrate their database.
    """
    start = time.perf_counter()
    with sdk.get_client(sync_client=True) as client:
        client.hello()
    return time.perf_counter() - start


def timed(fn: Any, *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - start, value


def _vm_hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
    found, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid]
        found.extend(children)
        frontier.extend(children)
    return found


def peak_rss() -> dict[str, int | None]:
    """Peak RSS of this process, and of this process plus its live descendants (KiB).

    The second figure counts helper processes such as Prefect's temporary API
    server; it is ``None`` where ``/proc`` is not available.
    """
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":  # bytes there, KiB on Linux
        own //= 1024
    tree = None
    if os.path.isdir("/proc"):
        tree = own + sum(_vm_hwm_kb(pid) for pid in _descendants(os.getpid()))
    return {"peak_rss_kb": own, "peak_rss_tree_kb": tree}


def emit(system: str, case: str, n: int, **measurements: Any) -> None:
    """Print the one JSON line the harness reads."""
    doc = {"system": system, "case": case, "n": n, **measurements, **peak_rss()}
    sys.stderr.flush()
    print(json.dumps(doc), flush=True)


def emit_unsupported(system: str, case: str, n: int, reason: str) -> None:
    print(json.dumps({"system": system, "case": case, "n": n, "unsupported": reason}), flush=True)
