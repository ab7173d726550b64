"""Smoke run of the benchmark harness: every case at tiny N, one counted run, Prefect left out.

Checks the harness end to end (fresh processes and homes, the JSON output,
the database counts, the comparison with papermill), not the speed. Needs no
network: Prefect is skipped; papermill is one of Partita's dependencies.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CASES = {"import", "cli-help", "sequential", "map", "flows", "cached", "yaml-compile", "quickstart", "notebook",
         "api-throughput"}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    output = tmp_path_factory.mktemp("benchmarks") / "results.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTITA_")}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "run", "--no-prefect", "--n-scale", "0.01", "--repeat", "1",
         "--warmup", "0", "--timeout", "120", "--output", str(output)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return {"results": json.loads(output.read_text()), "stdout": done.stdout}


def _supported(smoke: dict[str, Any]) -> dict[str, dict[str, Any]]:
    cases = smoke["results"]["cases"]
    return {name: case for name, case in cases.items() if case["systems"]["partita"]["status"] != "unsupported"}


def test_every_case_is_reported(smoke: dict[str, Any]) -> None:
    results = smoke["results"]
    assert set(results["cases"]) == CASES
    assert set(results["systems"]) == {"partita", "papermill"}
    unsupported = set(results["cases"]) - set(_supported(smoke))
    assert not unsupported, f"every case must run on Partita, not {unsupported}"
    assert "Partita median" in smoke["stdout"]


def test_every_supported_case_has_sane_numbers(smoke: dict[str, Any]) -> None:
    for name, case in _supported(smoke).items():
        partita = case["systems"]["partita"]
        assert partita["status"] == "ok", (name, partita["reason"])
        assert partita["ok_runs"] == 1
        for key, summary in partita["metrics"].items():
            assert summary is not None, (name, key)
            assert math.isfinite(summary["median"]) and 0 < summary["median"] < 1e9, (name, key, summary)


def test_partita_database_holds_every_run_and_state(smoke: dict[str, Any]) -> None:
    for name, case in _supported(smoke).items():
        if case["expected_db"] is None:
            continue
        partita = case["systems"]["partita"]
        assert partita["db_runs"] == 1, name
        assert partita["runs"][0]["db"] == case["expected_db"], name
        assert partita["db_complete_runs"] == 1, name


def test_sizes_follow_n_scale(smoke: dict[str, Any]) -> None:
    cases = smoke["results"]["cases"]
    assert (cases["sequential"]["n"], cases["map"]["n"], cases["flows"]["n"], cases["cached"]["n"]) == (10, 100, 1, 10)
    assert cases["sequential"]["expected_db"] == {"flow_runs": 1, "task_runs": 10, "task_run_states": 30, "cached_states": 0}
    assert cases["cached"]["expected_db"]["task_runs"] == 20


def test_each_case_is_compared_with_its_own_system(smoke: dict[str, Any]) -> None:
    cases = smoke["results"]["cases"]
    assert {name: case["other"] for name, case in cases.items() if case["other"] != "prefect"} == {
        "yaml-compile": None, "quickstart": None, "notebook": "papermill", "api-throughput": None}
    assert set(cases["yaml-compile"]["systems"]) == set(cases["api-throughput"]["systems"]) == {"partita"}
    assert set(cases["sequential"]["systems"]) == {"partita"}  # Prefect left out
    notebook = cases["notebook"]
    papermill = notebook["systems"]["papermill"]
    assert papermill["status"] == "ok" and "db" not in papermill  # papermill records nothing
    assert set(papermill["metrics"]) == {"papermill_s", "cli_s"}
    for key in ("papermill_mode_s", "cells_mode_s"):
        expected = notebook["systems"]["partita"]["metrics"][key]["median"] / papermill["metrics"]["papermill_s"]["median"]
        assert notebook["ratios"][key] == pytest.approx(expected)
    assert notebook["ratios"]["cli_s"] > 0
    assert "papermill 2" in smoke["stdout"] and "≤ 1.15" in smoke["stdout"] and "≤ 300 ms" in smoke["stdout"]


def test_new_cases_follow_n_scale(smoke: dict[str, Any]) -> None:
    cases = smoke["results"]["cases"]
    assert (cases["yaml-compile"]["n"], cases["notebook"]["n"], cases["api-throughput"]["n"]) == (10, 40_000, 1)
    assert cases["quickstart"]["n"] == 1  # one first run and one cached re-run
    assert cases["quickstart"]["expected_db"] == {"flow_runs": 2, "task_runs": 12, "task_run_states": 36, "cached_states": 6}
    assert cases["api-throughput"]["expected_db"]["flow_runs"] == 8
    assert cases["notebook"]["expected_db"] == {"flow_runs": 3, "task_runs": 11, "task_run_states": 33, "cached_states": 0}
