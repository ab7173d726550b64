"""``partita concurrency-limit create|ls|inspect|delete`` as a user types them (Prefect's command of that name)."""

from __future__ import annotations

import uuid

import pytest

from partita.client.orchestration import shared_sync_client
from support.cli import run_cli


@pytest.mark.parametrize("any_backend", ["embedded-sqlite", "http-sqlite"], indirect=True)
def test_create_list_inspect_and_delete_a_tag_limit(any_backend):
    tag = f"db-{uuid.uuid4().hex[:6]}"
    created = run_cli("concurrency-limit", "create", tag, "3", env=any_backend.env)
    assert created.returncode == 0, created.stderr
    assert f"{tag!r}: 3 task run(s) at once" in created.stdout
    assert shared_sync_client().read_concurrency_limit_by_tag(tag).concurrency_limit == 3

    listed = run_cli("concurrency-limit", "ls", env=any_backend.env)
    assert listed.returncode == 0 and tag in listed.stdout, listed.stdout + listed.stderr

    inspected = run_cli("concurrency-limit", "inspect", tag, env=any_backend.env)
    assert inspected.returncode == 0 and "0/3 slots taken" in inspected.stdout, inspected.stdout + inspected.stderr

    deleted = run_cli("concurrency-limit", "delete", tag, env=any_backend.env)
    assert deleted.returncode == 0, deleted.stderr
    missing = run_cli("concurrency-limit", "inspect", tag, env=any_backend.env)
    assert missing.returncode == 1 and f"no concurrency limit for tag {tag!r}" in missing.stderr


def test_a_negative_limit_is_refused_before_reaching_the_server(tmp_path):
    refused = run_cli("concurrency-limit", "create", "db", "-1", env={"PARTITA_HOME": str(tmp_path / "home")})
    assert refused.returncode == 2
    assert "-1" in refused.stderr


def test_a_tag_the_api_refuses_is_explained_and_brackets_are_kept(tmp_path):
    env = {"PARTITA_HOME": str(tmp_path / "home")}
    refused = run_cli("concurrency-limit", "create", "[/x]", "2", env=env)
    assert refused.returncode == 2
    assert refused.stderr.strip() == "Error: tag '[/x]': a tag is 1 to 255 characters, none of them / % & > or <; choose another tag"
    created = run_cli("concurrency-limit", "create", "[red]gpu", "2", env=env)
    assert created.returncode == 0, created.stderr
    assert "Concurrency limit for tag '[red]gpu': 2 task run(s) at once." in created.stdout
    listed = run_cli("concurrency-limit", "ls", env=env)
    assert "[red]gpu" in listed.stdout
