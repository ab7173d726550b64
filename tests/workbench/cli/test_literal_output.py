"""What users write is printed as they wrote it: square brackets in names, parameters and messages are text.

Rich reads ``[bold]`` and ``[/x]`` in a string as markup; the command line
must not, or a user's value restyles the output, vanishes, or (an unmatched
closing tag) stops the command with a traceback after the run was recorded.
"""

from __future__ import annotations

import re
from pathlib import Path

from support.cli import run_cli

MESSAGE = "bad [value] [/x] [bold]kept[/bold] [red]"

FLOWS = f'''
from partita import flow, task


@task(task_run_name="step-{{who}}")
def step(who: str) -> str:
    return who


@task
def explode() -> None:
    raise ValueError({MESSAGE!r})


@flow(name="[bold]brackets[/x]")
def greet(who: str = "[/x]") -> str:
    return step(who)


@flow
def failing() -> None:
    explode()
'''


def _write(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    path = tmp_path / "flows.py"
    path.write_text(FLOWS)
    return path, {"PARTITA_HOME": str(tmp_path / "home")}


def _run_id(stdout: str) -> str:
    return re.search(r"partita flow-run inspect (\S+)", stdout).group(1)


def test_names_and_parameters_with_brackets_are_shown_as_given(tmp_path: Path) -> None:
    path, env = _write(tmp_path)
    done = run_cli("run", f"{path}:greet", "-p", "who=[bold]Ada[/bold]", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "step-[bold]Ada[/bold]" in done.stdout  # the task run's name, in the summary table
    assert "of flow [bold]brackets[/x] finished in state Completed" in done.stdout
    run_id = _run_id(done.stdout)
    inspected = run_cli("flow-run", "inspect", run_id, env=env)
    assert inspected.returncode == 0, inspected.stderr
    assert '"who": "[bold]Ada[/bold]"' in inspected.stdout and "step-[bold]Ada[/bold]" in inspected.stdout
    listed = run_cli("flow-run", "ls", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "[bold]brackets[/x]" in listed.stdout


def test_a_failure_message_with_brackets_is_reported_whole(tmp_path: Path) -> None:
    path, env = _write(tmp_path)
    done = run_cli("run", f"{path}:failing", env=env)
    assert done.returncode == 1
    assert "MarkupError" not in done.stderr  # the task's traceback is logged, as in Prefect; the CLI's own output is whole
    assert MESSAGE in done.stdout  # the task's row of the summary
    assert f"Failed: ValueError: {MESSAGE}" in done.stderr
    inspected = run_cli("flow-run", "inspect", _run_id(done.stdout), env=env)
    assert inspected.returncode == 0, inspected.stderr
    assert MESSAGE in inspected.stdout


def test_graph_written_to_a_missing_folder_is_one_error_line(tmp_path: Path) -> None:
    path, env = _write(tmp_path)
    target = tmp_path / "no" / "such" / "graph.svg"
    done = run_cli("graph", f"{path}:greet", "--format", "svg", "-o", str(target), env=env)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"Error: cannot write {target}: No such file or directory; give -o a path in an existing folder you can write to"
    ]


def test_ls_ids_are_whole_or_prefixes_that_inspect_accepts_and_an_ambiguous_prefix_lists_the_runs(tmp_path: Path) -> None:
    path, env = _write(tmp_path)
    ids = [_run_id(run_cli("run", f"{path}:greet", env=env).stdout) for _ in range(2)]
    wide = run_cli("flow-run", "ls", env={**env, "COLUMNS": "140"})
    assert wide.returncode == 0 and all(run_id in wide.stdout for run_id in ids), wide.stdout
    narrow = run_cli("flow-run", "ls", env={**env, "COLUMNS": "80"})
    shown = re.findall(r"^ ?([0-9a-f]{8}-[0-9a-f-]+) ", narrow.stdout, re.M)
    assert len(shown) == 2 and all(13 <= len(prefix) < 36 for prefix in shown), narrow.stdout
    for prefix, run_id in zip(shown, ids[::-1]):  # newest first
        assert run_id.startswith(prefix)
        inspected = run_cli("flow-run", "inspect", prefix, env=env)
        assert inspected.returncode == 0 and run_id in inspected.stdout, inspected.stderr
    common = next(i for i in range(len(ids[0])) if ids[0][i] != ids[1][i])
    prefix = ids[0][:common]
    ambiguous = run_cli("flow-run", "inspect", prefix, env=env)
    assert ambiguous.returncode == 1
    assert ambiguous.stderr.startswith(f"Error: 2 flow runs have an id starting {prefix!r} (")
    assert all(run_id in ambiguous.stderr for run_id in ids) and "give more of the id" in ambiguous.stderr


def test_the_final_lines_stay_whole_when_stdout_is_narrow(tmp_path: Path) -> None:
    path, env = _write(tmp_path)
    done = run_cli("run", f"{path}:greet", env={**env, "COLUMNS": "40"})
    assert done.returncode == 0, done.stderr
    final = [line for line in done.stdout.splitlines() if line.startswith("Flow run ") and "finished in state" in line]
    assert len(final) == 1 and final[0].endswith("."), done.stdout
    assert "of flow [bold]brackets[/x] finished in state Completed after" in final[0]
    assert any(line.startswith("Inspect it: partita flow-run inspect ") and len(line) > 40 for line in done.stdout.splitlines())


def test_ls_prefixes_stay_unique_among_every_run_an_id_is_looked_up_in(tmp_path: Path) -> None:
    """Ids made in the same millisecond share their first 13 characters or more; so do runs beyond ``--limit``."""
    home = tmp_path / "home"
    script = tmp_path / "burst.py"
    script.write_text(
        "from concurrent.futures import ThreadPoolExecutor\n"
        "from partita import flow\n\n"
        "@flow\ndef tiny() -> int:\n    return 1\n\n"
        "with ThreadPoolExecutor(8) as pool:\n    list(pool.map(lambda _: tiny(), range(24)))\n"
    )
    import os
    import subprocess
    import sys

    subprocess.run([sys.executable, str(script)], env={**os.environ, "PARTITA_HOME": str(home)}, check=True, timeout=120)
    env = {"PARTITA_HOME": str(home)}
    for columns, limit in (("80", "24"), ("40", "24"), ("80", "1")):
        listed = run_cli("flow-run", "ls", "--limit", limit, env={**env, "COLUMNS": columns})
        assert listed.returncode == 0, listed.stderr
        shown = re.findall(r"^ ?([0-9a-f]{8}-[0-9a-f-]*)", listed.stdout, re.M)
        assert len(shown) == int(limit) and "…" not in "".join(shown), listed.stdout
        for prefix in shown[:3]:
            inspected = run_cli("flow-run", "inspect", prefix, env=env)
            assert inspected.returncode == 0, (columns, limit, prefix, inspected.stderr)


def test_emoji_codes_are_text_too(tmp_path: Path) -> None:
    path, env = _write(tmp_path)
    done = run_cli("run", f"{path}:greet", "-p", "who=:rocket:", env=env)
    assert done.returncode == 0, done.stderr
    assert "step-:rocket:" in done.stdout and "\U0001f680" not in done.stdout
