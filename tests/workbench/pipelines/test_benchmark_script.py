"""benchmarks/workloads/yaml_compile.py: its generated pipeline is valid and runs; the workload prints its figures."""

from __future__ import annotations

import gc
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from partita_workbench.pipelines import compile_pipeline, load_pipeline
from partita_workbench.pipelines.yamlio import gc_paused

SCRIPT = Path(__file__).parents[3] / "benchmarks" / "workloads" / "yaml_compile.py"


def _module():
    sys.path.insert(0, str(SCRIPT.parent))  # the workload imports its sibling workload_support
    spec = importlib.util.spec_from_file_location("yaml_compile_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPT.parent))
    return module


def test_generated_pipeline_is_valid_and_runs(tmp_path):
    path = _module().generate(tmp_path, 30)
    pipeline = load_pipeline(path)
    assert len(pipeline.spec.tasks) == 30
    state = compile_pipeline(pipeline)(return_state=True)
    assert state.is_completed(), state.message


def test_workload_prints_its_figures(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), "--system", "partita", "--n", "100"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.splitlines()[-1])
    assert figures["correct"] and figures["n"] == 100
    assert figures["cpu_s"] > 0 and figures["wall_s"] > 0 and figures["cold_s"] > 0


def test_gc_paused_restores_the_collector():
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with gc_paused():
            assert not gc.isenabled()
            raise RuntimeError
    assert gc.isenabled()
