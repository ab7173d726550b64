"""``partita graph`` through the real console script, with ``--run`` colouring from a recorded run."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from partita_workbench.cli.graph import node_states

from support.cli import run_cli

DATA = Path(__file__).parents[2] / "data"
ETL_YAML = DATA / "pipelines" / "etl" / "pipeline.yaml"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def test_every_format(tmp_path):
    for fmt, check in (
        ("text", lambda out: out.startswith("etl (yaml, ")),
        ("mermaid", lambda out: out.startswith("flowchart TD\n")),
        ("dot", lambda out: out.startswith('digraph "etl" {')),
        ("json", lambda out: json.loads(out)["name"] == "etl"),
        ("svg", lambda out: ET.fromstring(out).tag.endswith("svg")),
    ):
        result = run_cli("graph", str(ETL_YAML), "--format", fmt)
        assert result.returncode == 0, result.stderr
        assert check(result.stdout), fmt


def test_python_flow_target_and_output_file(tmp_path):
    out = tmp_path / "etl.mmd"
    result = run_cli("graph", f"{DATA / 'flows' / 'etl_flow.py'}:etl", "-f", "mermaid", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and f"Wrote {out}" in result.stderr
    assert out.read_text().count("-->") + out.read_text().count("-.->") == 4


def test_run_colours_tasks_by_their_recorded_states(tmp_path):
    env = {"PARTITA_HOME": str(tmp_path / "home")}
    (tmp_path / "p.yaml").write_text(
        "name: half\ntasks:\n  ok: {shell: 'echo fine'}\n  bad: {shell: 'exit 3', needs: [ok]}\n  after: {shell: 'echo', needs: [bad]}\n"
    )
    ran = run_cli("run", str(tmp_path / "p.yaml"), env=env)
    assert ran.returncode == 1
    run_id = re.search(rf"flow-run inspect ({UUID})", ran.stdout).group(1)
    drawn = run_cli("graph", str(tmp_path / "p.yaml"), "--run", run_id[:8], "--format", "json", env=env)
    assert drawn.returncode == 0, drawn.stderr
    assert {t["name"]: t.get("state") for t in json.loads(drawn.stdout)["tasks"]} == {
        "ok": "Completed", "bad": "Failed", "after": "NotReady"}
    text = run_cli("graph", str(tmp_path / "p.yaml"), "--run", run_id, env=env)
    assert "  bad    [shell]  Failed  <- ok" in text.stdout
    missing = run_cli("graph", str(tmp_path / "p.yaml"), "--run", "ffffffff", env=env)
    assert missing.returncode == 1 and "no flow run with an id starting 'ffffffff'" in missing.stderr


def test_states_of_mapped_runs_are_combined():
    runs = [("squares", "Completed"), ("squares-1", "Failed"), ("squares-2", "Completed"), ("total", "NotReady"),
            ("a-b", "Cached"), ("other-task", "Completed")]
    assert node_states(["squares", "total", "a-b"], runs) == {"squares": "Failed", "total": "NotReady", "a-b": "Cached"}


def test_targets_that_cannot_be_drawn_exit_2(tmp_path):
    invalid = run_cli("graph", str(DATA / "pipelines" / "invalid" / "cycle.yaml"))
    assert invalid.returncode == 2
    assert "cycle.yaml:3:3: dependency cycle: a -> c -> b -> a" in invalid.stderr
    missing = run_cli("graph", str(tmp_path / "none.yaml"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    bad_format = run_cli("graph", str(ETL_YAML), "--format", "png")
    assert bad_format.returncode == 2 and "unknown format 'png'" in bad_format.stderr
