"""Smoke run of the notebook benchmark (tiny notebook, one counted run): the script works end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_notebook_benchmark_prints_and_writes_its_figures(tmp_path):
    output = tmp_path / "notebooks.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTITA_")}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.notebooks", "--repeat", "1", "--warmup", "0", "--cells", "3", "--n", "10",
         "--output", str(output)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "partita-papermill / papermill = " in done.stdout
    figures = json.loads(output.read_text())
    assert figures["goal"] == 1.15 and figures["cells"] == 3
    assert set(figures["results"]["in_process"]) == {"papermill", "partita-papermill"}
    for summary in figures["results"]["in_process"].values():
        assert len(summary["values"]) == 1 and summary["median"] > 0
    assert figures["ratio"] == figures["results"]["in_process"]["partita-papermill"]["median"] / (
        figures["results"]["in_process"]["papermill"]["median"])
