"""Running the cases: alternating systems, one fresh process and home per run.

For each case Partita and the system it is compared with (Prefect, papermill,
or none: :attr:`benchmarks.cases.Case.other`) take turns (Partita, Prefect,
Partita, Prefect, …):
``warmup`` pairs that are recorded but not counted, then ``repeat`` counted
pairs. A run is one subprocess started in a new temporary directory, with the
system's home inside it, so every run starts from an empty database and no
run sees another's files. After the process exits the runner counts what the
home's database holds, then deletes the directory.

A system that reports a case as unsupported is not run again for that case; a
run that fails (non-zero exit, no JSON line, wrong results, timeout) is kept
with its stderr tail and the other runs go on.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from benchmarks.cases import Case
from benchmarks.dbcounts import count_runs
from benchmarks.stats import ratio, summarize
from benchmarks.systems import System

OK, UNSUPPORTED, FAILED = "ok", "unsupported", "failed"


@dataclass(frozen=True)
class Plan:
    """What to run.

    Args:
        cases: the cases, in order.
        systems: the systems, in the order they take turns.
        repeat: counted runs per system and case.
        warmup: uncounted runs per system and case, before the counted ones.
        n_scale: multiplies every workload size (e.g. 0.01 for a smoke run).
        timeout: seconds before a run is killed and counted as failed.
    """

    cases: list[Case]
    systems: list[System]
    repeat: int = 5
    warmup: int = 1
    n_scale: float = 1.0
    timeout: float = 1800.0

    @property
    def total_runs(self) -> int:
        names = {system.name for system in self.systems}
        per_round = sum(len(names & set(case.system_names())) for case in self.cases)
        return per_round * (self.repeat + self.warmup)


class Observer(Protocol):
    """Told about progress; :mod:`benchmarks.live` shows it with Rich."""

    def run_started(self, case: Case, system: System, iteration: int, warmup: bool) -> None: ...

    def run_finished(self, case: Case, system: System, run: dict[str, Any]) -> None: ...

    def runs_skipped(self, case: Case, system: System, count: int) -> None: ...

    def case_finished(self, case: Case, result: dict[str, Any]) -> None: ...


def execute(plan: Plan, observer: Observer) -> dict[str, Any]:
    """Run every case of ``plan``; the results by case name (see :func:`summarize_case`)."""
    results = {}
    for case in plan.cases:
        n = case.size(plan.n_scale)
        systems = [system for system in plan.systems if system.name in case.system_names()]
        runs: dict[str, list[dict[str, Any]]] = {system.name: [] for system in systems}
        unsupported: set[str] = set()
        for iteration in range(plan.warmup + plan.repeat):
            warmup = iteration < plan.warmup
            for system in systems:
                if system.name in unsupported:
                    continue
                observer.run_started(case, system, iteration, warmup)
                run = run_once(case, system, n, plan.timeout)
                run.update(iteration=iteration, warmup=warmup)
                runs[system.name].append(run)
                observer.run_finished(case, system, run)
                if run["status"] == UNSUPPORTED:
                    unsupported.add(system.name)
                    observer.runs_skipped(case, system, plan.warmup + plan.repeat - iteration - 1)
        results[case.name] = summarize_case(case, n, runs)
        observer.case_finished(case, results[case.name])
    return results


def run_once(case: Case, system: System, n: int, timeout: float) -> dict[str, Any]:
    """One run of ``case`` for ``system`` in a fresh process and home; its record."""
    root = Path(tempfile.mkdtemp(prefix=f"partita-bench-{system.name}-"))
    home, workdir = root / "home", root / "work"
    workdir.mkdir()
    try:
        argv = case.command(system, n)
        start = time.perf_counter()
        process = subprocess.Popen(
            argv, cwd=workdir, env=system.env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, start_new_session=True,
        )
        timed_out = False
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(process.pid)
            stdout, stderr = process.communicate()
        process_wall = time.perf_counter() - start
        leftovers = _kill_group(process.pid)
        run = _interpret(case, n, process.returncode, stdout, process_wall, timed_out)
        run["leftover_processes"] = leftovers
        if case.expected is not None and system.database and run["status"] != UNSUPPORTED:
            run["db"] = count_runs(home / system.database)
        if run["status"] == FAILED:
            lines = [line for line in stderr.splitlines() if line.strip()]
            run["stderr_tail"] = "\n".join(lines[-25:])
            if lines:  # what the workload said last, usually why it failed; the JSON keeps 25 lines
                run["problem"] += f" ({lines[-1].strip()[:200]})"
        return run
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _interpret(case: Case, n: int, exit_code: int, stdout: str, process_wall: float, timed_out: bool) -> dict[str, Any]:
    run: dict[str, Any] = {"status": OK, "problem": None, "exit_code": exit_code, "process_wall_s": process_wall}
    if timed_out:
        return {**run, "status": FAILED, "problem": f"timed out after {process_wall:.0f} s"}
    if exit_code != 0:
        return {**run, "status": FAILED, "problem": f"exit code {exit_code}"}
    measurement: dict[str, Any] = {}
    if case.is_workload:
        found = _last_json_line(stdout)
        if found is None:
            return {**run, "status": FAILED, "problem": "the workload printed no JSON line"}
        measurement = found
        if "unsupported" in measurement:
            return {**run, "status": UNSUPPORTED, "problem": f"not supported yet: {measurement['unsupported']}"}
    measurement["process_wall_s"] = process_wall
    run["measurement"] = measurement
    problem = case.check(measurement) if case.check else None
    if problem:
        return {**run, "status": FAILED, "problem": problem}
    run["metrics"] = case.derive(measurement, n)
    return run


def _last_json_line(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return None


def _kill_group(pid: int) -> bool:
    """SIGKILL whatever is left in the run's process group; whether anything was."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


def summarize_case(case: Case, n: int, runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """A case's result: per system its runs, status, metric and database summaries; the ratios.

    Partita's metrics are summarised under their keys, the other system's
    under :attr:`~benchmarks.cases.Metric.other_key`. Only counted (non-warm-up) runs enter the summaries. A database count is
    complete when it equals the expected count exactly.
    """
    expected = case.expected(n).as_dict() if case.expected else None
    systems = {}
    for name, system_runs in runs.items():
        recorded = expected is not None and any("db" in run for run in system_runs)
        counted = [run for run in system_runs if not run["warmup"]]
        ok = [run for run in counted if run["status"] == OK]
        if system_runs and system_runs[0]["status"] == UNSUPPORTED:
            status, reason = UNSUPPORTED, system_runs[0]["problem"]
        elif not counted:
            status, reason = FAILED, "no counted runs"
        elif len(ok) == len(counted):
            status, reason = OK, None
        else:
            failures = [run["problem"] for run in counted if run["status"] != OK]
            status = "partial" if ok else FAILED
            reason = f"{len(failures)} of {len(counted)} runs failed: {failures[0]}"
        metric_keys = list(dict.fromkeys(metric.key if name == "partita" else metric.other_key for metric in case.metrics))
        summary: dict[str, Any] = {
            "status": status,
            "reason": reason,
            "counted_runs": len(counted),
            "ok_runs": len(ok),
            "metrics": {key: summarize(run["metrics"][key] for run in ok if key in run["metrics"]) for key in metric_keys},
            "runs": system_runs,
        }
        if recorded:
            with_db = [run["db"] for run in ok if run.get("db")]
            summary["db"] = {key: summarize(db[key] for db in with_db) for key in expected}
            summary["db_complete_runs"] = sum(1 for db in with_db if db == expected)
            summary["db_runs"] = len(with_db)
        systems[name] = summary
    ratios = {}
    if "partita" in systems and case.other in systems:
        for metric in case.metrics:
            theirs = systems[case.other]["metrics"].get(metric.other_key)
            ratios[metric.key] = ratio(systems["partita"]["metrics"].get(metric.key), theirs)
    return {
        "name": case.name,
        "title": case.title,
        "description": case.description,
        "other": case.other,
        "n": n if case.base_n is not None else None,
        "expected_db": expected,
        "systems": systems,
        "ratios": ratios,
    }
