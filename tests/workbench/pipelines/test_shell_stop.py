"""A ``shell:`` task's timeout stops the command; only the task is TimedOut, not its flow."""

from __future__ import annotations

import time
from pathlib import Path

from partita_workbench.pipelines.compiler import compile_pipeline

MARK = "sleep 7.37"


def _running_commands() -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if MARK in text:
                found.append(text)
    return found


def test_timeout_stops_the_shell_command_and_names_the_flow_failed(tmp_path: Path, client) -> None:
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(f"name: shell-timeout\ntasks:\n  slow:\n    shell: {MARK} && echo late\n    timeout_seconds: 1\n")
    started = time.monotonic()
    state = compile_pipeline(pipeline)(return_state=True)
    took = time.monotonic() - started
    assert state.type.value == "FAILED" and state.name == "Failed", state  # the flow has no timeout of its own
    assert took < 5, f"the flow waited {took:.1f} s for the command its task gave up on"
    (run,) = client.read_task_runs(state.state_details["flow_run_id"])
    assert run.state_name == "TimedOut"
    deadline = time.monotonic() + 5
    while _running_commands() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _running_commands() == []
