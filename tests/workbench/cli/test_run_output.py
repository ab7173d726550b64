"""What ``partita run`` prints: kernel advice, no library noise, durations, big maps, parameters."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from support.cli import run_cli

DATA = Path(__file__).parents[2] / "data"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def test_missing_kernel_is_refused_before_the_run_and_kernel_option_chooses_one(tmp_path: Path) -> None:
    notebook = tmp_path / "input.ipynb"
    shutil.copy(DATA / "notebooks" / "input.ipynb", notebook)  # its kernelspec is python311
    env = {"PARTITA_HOME": str(tmp_path / "home")}
    refused = run_cli("run", str(notebook), env=env)
    assert refused.returncode == 2
    assert "--kernel" in " ".join(refused.stderr.split())
    assert re.search(UUID[:20], run_cli("flow-run", "ls", env=env).stdout) is None  # nothing was run
    chosen = run_cli("run", str(notebook), "--kernel", "python3", env=env)
    assert chosen.returncode == 0, chosen.stdout + chosen.stderr


def test_notebook_runs_print_no_library_warnings(tmp_path: Path) -> None:
    nb = new_notebook(cells=[new_code_cell("print('hello')")])
    for cell in nb.cells:
        del cell["id"]  # nbformat 4.5 without cell ids: nbformat warns about it
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "noids.ipynb"
    nbformat.write(nb, path)
    result = run_cli("run", str(path), env={"PARTITA_HOME": str(tmp_path / "home")})
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "MissingIDFieldWarning" not in output
    assert "IPKernelApp" not in output and "without encryption" not in output


def test_summary_duration_is_the_flow_runs_and_big_maps_are_counted(tmp_path: Path) -> None:
    script = tmp_path / "bigmap.py"
    script.write_text(
        "from partita import flow, task\n\n"
        "@task\ndef inc(x):\n    if x == 77:\n        raise ValueError('77')\n    return x + 1\n\n"
        "@flow\ndef big():\n    return [f.result(raise_on_failure=False) for f in inc.map(range(300))]\n"
    )
    env = {"PARTITA_HOME": str(tmp_path / "home")}
    result = run_cli("run", f"{script}:big", env=env)
    assert result.returncode == 0, result.stderr
    assert len([line for line in result.stdout.splitlines() if "inc-" in line]) < 45
    assert "inc-77" in result.stdout and "Failed" in result.stdout  # what did not complete is always shown
    assert re.search(r"… 26\d more", result.stdout)
    said = re.search(r"finished in state Completed after (\S+ m?s)", " ".join(result.stdout.split())).group(1)
    run_id = re.search(rf"flow-run inspect ({UUID})", result.stdout).group(1)
    listing = run_cli("flow-run", "ls", env={**env, "COLUMNS": "300"}).stdout
    row = next(line for line in listing.splitlines() if run_id[:8] in line)
    assert said in row, (said, row)


def test_a_parameter_given_twice_is_refused(tmp_path: Path) -> None:
    result = run_cli("run", f"{DATA}/flows/simple.py:squares", "-p", "n=1", "-p", "n=2",
                     env={"PARTITA_HOME": str(tmp_path / "home")})
    assert result.returncode == 2
    assert "parameter 'n' is given twice" in result.stderr


def test_a_parameter_value_of_the_wrong_type_is_refused_before_a_run_is_recorded(tmp_path: Path) -> None:
    home = tmp_path / "home"
    pipeline = tmp_path / "typed.yaml"
    pipeline.write_text("name: typed\nparameters:\n  n:\n    type: integer\n    default: 3\n"
                        "tasks:\n  t:\n    shell: echo ${{ params.n }}\n")
    for target, value in ((str(pipeline), "n=abc"), (f"{DATA}/flows/simple.py:squares", "n=abc")):
        result = run_cli("run", target, "-p", value, env={"PARTITA_HOME": str(home)})
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stderr.startswith("Error: flow ") and "parameter 'n': Input should be a valid integer" in result.stderr
        assert "(got 'abc')" in result.stderr
    listed = run_cli("flow-run", "ls", env={"PARTITA_HOME": str(home)})
    assert listed.returncode == 0 and not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}", listed.stdout), listed.stdout


def test_values_json_cannot_hold_and_unresolvable_annotations_are_one_error_line(tmp_path: Path) -> None:
    env = {"PARTITA_HOME": str(tmp_path / "home")}
    for value in ("n=NaN", 'n={"a": -Infinity}'):
        result = run_cli("run", f"{DATA}/flows/simple.py:squares", "-p", value, env=env)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert "cannot be a parameter value (parameters are stored as JSON)" in result.stderr
    flows = tmp_path / "typed_later.py"
    flows.write_text(
        "from __future__ import annotations\nfrom typing import TYPE_CHECKING\nfrom partita import flow\n"
        "if TYPE_CHECKING:\n    from decimal import Decimal\n\n"
        "@flow\ndef priced(x: Decimal = 1) -> int:\n    return 1\n"
    )
    result = run_cli("run", f"{flows}:priced", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("Error: flow 'priced': its parameters cannot be checked (")
    assert "not only under `if TYPE_CHECKING:`, or use @flow(validate_parameters=False)" in result.stderr
