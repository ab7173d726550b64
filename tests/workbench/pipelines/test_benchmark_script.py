"""benchmarks/yaml_compile.py: its generated pipeline is valid and runs; the script prints its figure."""

from __future__ import annotations

import gc
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from partita_workbench.pipelines import compile_pipeline, load_pipeline
from partita_workbench.pipelines.yamlio import gc_paused

SCRIPT = Path(__file__).parents[3] / "benchmarks" / "yaml_compile.py"


def _module():
    spec = importlib.util.spec_from_file_location("yaml_compile_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_pipeline_is_valid_and_runs(tmp_path):
    path = _module().generate(tmp_path, 30)
    pipeline = load_pipeline(path)
    assert len(pipeline.spec.tasks) == 30
    state = compile_pipeline(pipeline)(return_state=True)
    assert state.is_completed(), state.message


def test_script_prints_the_figure():
    done = subprocess.run([sys.executable, str(SCRIPT), "--tasks", "100", "--repeat", "2", "--budget-ms", "100000"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("100 tasks (") and "ms wall (" in done.stdout and "ms CPU)" in done.stdout


def test_gc_paused_restores_the_collector():
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with gc_paused():
            assert not gc.isenabled()
            raise RuntimeError
    assert gc.isenabled()
