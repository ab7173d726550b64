"""Property-based requests from the OpenAPI document (schemathesis) never get a 5xx answer.

A real uvicorn server on SQLite; every operation but the endless event
stream gets a bounded number of generated requests, valid ones (schemathesis'
positive mode) and invalid ones (negative mode).
"""

from __future__ import annotations

import itertools

import pytest
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from support.server import UvicornServer

MAX_EXAMPLES = 6  # per operation and generation mode (valid, invalid)


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("schemathesis-home")
    server = UvicornServer(
        f"sqlite+aiosqlite:///{home / 'partita.db'}",
        env={"PARTITA_HOME": str(home), "PARTITA_SERVER_STORAGE": str(home / "store")},
    )
    server.start()
    schema = schemathesis.openapi.from_url(server.url.removesuffix("/api") + "/openapi.json")
    yield schema.exclude(path="/api/events/stream")
    server.stop()


def test_no_request_gets_a_server_error(api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 40
    sent = []
    for operation, mode in itertools.product(operations, GenerationMode):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:
            response = case.call(timeout=20)
            sent.append(response.status_code)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}\n"
                f"{case.as_curl_command()}"
            )

        try:
            check()
        except Unsatisfiable:  # nothing invalid can be sent (an operation without inputs)
            assert mode is GenerationMode.NEGATIVE
    assert len(sent) > 10 * len(operations)  # the bound was reached for most operations
