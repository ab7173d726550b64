"""``PARTITA_RESULT_STORAGE=server``: results, cache entries and files in the backend's store (``partita://``).

Here against the embedded backend (its store is ``<PARTITA_HOME>/storage``);
``tests/workbench/server/test_server_result_store.py`` runs the same over a
real server with the reader in another home.
"""

from __future__ import annotations

import fsspec
import pytest

from partita import flow, task
from partita.cache_policies import INPUTS
from partita.client import orchestration
from partita.exceptions import ObjectNotFound
from partita.results import load_result, modified_time, persist_result, read_bytes
from partita.settings import get_settings


@pytest.fixture
def server_storage(fresh_home, monkeypatch):
    monkeypatch.setenv("PARTITA_RESULT_STORAGE", "server")
    get_settings.cache_clear()
    orchestration.reset_shared_client()
    return fresh_home / "storage"


def test_the_setting_names_the_server_store(server_storage):
    assert get_settings().resolved_result_storage() == "partita://results"


def test_persisted_values_go_to_the_store_and_come_back(server_storage):
    record = persist_result({"a": [1, 2]}, key="k1")
    assert record["storage_key"] == "partita://results/k1"
    assert (server_storage / "results" / "k1").is_file()
    assert load_result(record) == {"a": [1, 2]}
    assert modified_time("partita://results/k1") == pytest.approx((server_storage / "results" / "k1").stat().st_mtime, abs=1.5)
    assert modified_time("partita://results/missing") is None and read_bytes("partita://results/missing") is None


def test_files_are_written_only_when_closed_without_error(server_storage):
    with fsspec.open("partita://results/notes/a.txt", "w", encoding="utf-8") as fh:
        fh.write("ünïcode")
    with fsspec.open("partita://results/notes/a.txt", "r", encoding="utf-8") as fh:
        assert fh.read() == "ünïcode"
    fs = fsspec.filesystem("partita")
    with pytest.raises(RuntimeError), fs.open("partita://results/notes/b.bin", "wb") as fh:
        fh.write(b"half")
        raise RuntimeError("stopped while writing")
    assert not fs.exists("partita://results/notes/b.bin")
    with pytest.raises(ObjectNotFound):
        orchestration.shared_sync_client().read_result_bytes("results/notes/b.bin")


def test_cached_values_are_found_in_the_store(server_storage):
    calls = []

    @task(cache_policy=INPUTS, name="double")
    def double(x: int) -> int:
        calls.append(x)
        return 2 * x

    @flow
    def twice(x: int) -> int:
        return double(x)

    assert twice(21) == 42 and twice(21) == 42
    assert calls == [21]
    assert list((server_storage / "results" / "cache").iterdir())
