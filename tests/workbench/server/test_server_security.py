"""API key and basic auth, CORS, body size limit, storage confinement, no unpickling."""

from __future__ import annotations

import base64
import os
import pickle
import re
import uuid
from pathlib import Path

import httpx
import pytest

import partita_workbench.server
from partita_workbench.server import create_app
from partita_workbench.server.settings import ServerSettings

pytestmark = pytest.mark.anyio

KEY = "s3cret-key"


async def _client(app):
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://partita.test")


def _fill(path: str) -> str:
    return re.sub(r"\{([^}:]+)(:path)?\}", lambda m: str(uuid.uuid4()) if m.group(1).endswith("id") else "x", path)


async def test_every_route_but_health_refuses_requests_without_the_key(database_url, tmp_path):
    app = create_app(database_url, ServerSettings(api_key=KEY, storage=tmp_path / "store"))
    async with app.router.lifespan_context(app):
        async with await _client(app) as http:
            assert (await http.get("/openapi.json")).status_code == 401
            spec = (await http.get("/openapi.json", headers={"Authorization": f"Bearer {KEY}"})).json()
            routes = [(m.upper(), p) for p, ops in spec["paths"].items() for m in ops]
            assert len(routes) > 40
            for method, path in routes:
                url = _fill(path)
                for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {KEY}"}):
                    response = await http.request(method, url, headers=headers, json={})
                    expected = 200 if path == "/api/health" else 401
                    assert response.status_code == expected, (method, path, headers, response.text)
                if path != "/api/health" and method != "HEAD":  # a HEAD answer has no body
                    assert "PARTITA_API_KEY" in response.json()["detail"]
            ok = await http.post("/api/flows/", json={"name": "f"}, headers={"Authorization": f"Bearer {KEY}"})
            assert ok.status_code == 201


async def test_basic_auth_string(sqlite_url, tmp_path):
    app = create_app(sqlite_url, ServerSettings(api_auth_string="ada:lovelace", storage=tmp_path))
    good = "Basic " + base64.b64encode(b"ada:lovelace").decode()
    bad = "Basic " + base64.b64encode(b"ada:babbage").decode()
    async with app.router.lifespan_context(app):
        async with await _client(app) as http:
            assert (await http.get("/api/version", headers={"Authorization": good})).status_code == 200
            assert (await http.get("/api/version", headers={"Authorization": bad})).status_code == 401
            assert (await http.get("/api/version", headers={"Authorization": "Basic %%%"})).status_code == 401
            assert (await http.get("/api/version")).status_code == 401


async def test_missing_credentials_are_told_from_wrong_ones(sqlite_url, tmp_path):
    both = create_app(sqlite_url, ServerSettings(api_key=KEY, api_auth_string="ada:lovelace", storage=tmp_path / "a"))
    basic_only = create_app(sqlite_url, ServerSettings(api_auth_string="ada:lovelace", storage=tmp_path / "b"))
    key_only = create_app(sqlite_url, ServerSettings(api_key=KEY, storage=tmp_path / "c"))
    wrong_pair = "Basic " + base64.b64encode(b"ada:babbage").decode()
    expected = {
        (both, None): "authentication required: send PARTITA_API_KEY as 'Authorization: Bearer <key>' "
                      "or PARTITA_API_AUTH_STRING as basic auth",
        (both, "Bearer wrong"): "the API key was rejected: PARTITA_API_KEY does not match the server's "
                                "PARTITA_SERVER_API_KEY",
        (both, wrong_pair): "the user and password were rejected: PARTITA_API_AUTH_STRING does not match the "
                            "server's PARTITA_SERVER_API_AUTH_STRING",
        (both, "Basic %%%"): "the basic auth credentials are malformed: set PARTITA_API_AUTH_STRING to 'user:password'",
        (key_only, "Bearer "): "authentication required: send PARTITA_API_KEY as 'Authorization: Bearer <key>'",
        (key_only, "Token abc"): "authentication required: send PARTITA_API_KEY as 'Authorization: Bearer <key>'",
        (key_only, wrong_pair): "this server takes an API key, not a user and password: set PARTITA_API_KEY to the "
                                "server's PARTITA_SERVER_API_KEY",
        (basic_only, None): "authentication required: send PARTITA_API_AUTH_STRING as basic auth",
        (basic_only, f"Bearer {KEY}"): "this server takes no API key but a user and password: unset PARTITA_API_KEY "
                                       "and set PARTITA_API_AUTH_STRING to the server's PARTITA_SERVER_API_AUTH_STRING",
    }
    for (app, authorization), detail in expected.items():
        async with app.router.lifespan_context(app):
            async with await _client(app) as http:
                headers = {"Authorization": authorization} if authorization is not None else {}
                response = await http.get("/api/version", headers=headers)
                assert (response.status_code, response.json()["detail"]) == (401, detail), authorization


async def test_cors_allows_only_listed_origins(sqlite_url, tmp_path):
    app = create_app(sqlite_url, ServerSettings(cors_allowed_origins="http://lab.example:8888", storage=tmp_path))
    async with app.router.lifespan_context(app):
        async with await _client(app) as http:
            allowed = await http.get("/api/health", headers={"Origin": "http://lab.example:8888"})
            assert allowed.headers["access-control-allow-origin"] == "http://lab.example:8888"
            other = await http.get("/api/health", headers={"Origin": "http://evil.example"})
            assert "access-control-allow-origin" not in other.headers
            preflight = await http.options(
                "/api/flows/",
                headers={"Origin": "http://lab.example:8888", "Access-Control-Request-Method": "POST"},
            )
            assert preflight.status_code == 200


async def test_without_a_cors_setting_no_origin_is_allowed(sqlite_url, tmp_path):
    app = create_app(sqlite_url, ServerSettings(storage=tmp_path))
    async with app.router.lifespan_context(app):
        async with await _client(app) as http:
            response = await http.get("/api/health", headers={"Origin": "http://lab.example"})
            assert "access-control-allow-origin" not in response.headers


async def test_request_bodies_over_the_limit_are_refused(sqlite_url, tmp_path):
    app = create_app(sqlite_url, ServerSettings(max_body_bytes=1000, storage=tmp_path))
    async with app.router.lifespan_context(app):
        async with await _client(app) as http:
            logs = [{"name": "x", "level": 20, "message": "m" * 2000}]
            response = await http.post("/api/logs/", json=logs)
            assert response.status_code == 413 and "PARTITA_SERVER_MAX_BODY_BYTES" in response.json()["detail"]

            async def chunks():  # no Content-Length: counted as it arrives
                for _ in range(20):
                    yield b"x" * 100

            streamed = await http.put("/api/results/a/b.bin", content=chunks())
            assert streamed.status_code == 413
            assert not (tmp_path / "a" / "b.bin").exists()
            assert (await http.post("/api/flows/", json={"name": "small"})).status_code == 201


# --------------------------------------------------------------------------- storage confinement


@pytest.fixture
async def store_client(sqlite_url, tmp_path):
    root = tmp_path / "store"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("do not serve")
    os.symlink(tmp_path / "secret.txt", root / "link.txt")
    os.symlink(tmp_path, root / "outside")
    app = create_app(sqlite_url, ServerSettings(storage=root))
    async with app.router.lifespan_context(app):
        async with await _client(app) as http:
            yield http, root


async def test_results_round_trip_inside_the_store(store_client):
    http, root = store_client
    assert (await http.put("/api/results/nb/run-1/output.ipynb", content=b'{"cells": []}')).status_code == 204
    assert (root / "nb" / "run-1" / "output.ipynb").read_bytes() == b'{"cells": []}'
    fetched = await http.get("/api/results/nb/run-1/output.ipynb")
    assert fetched.status_code == 200 and fetched.content == b'{"cells": []}'
    assert (await http.get("/api/results/nb/missing")).status_code == 404


@pytest.mark.parametrize(
    "key",
    [
        "../secret.txt",
        "a/../../secret.txt",
        "%2e%2e/secret.txt",
        "a/%2e%2e/%2e%2e/secret.txt",
        "..%2fsecret.txt",
        "%2Fetc%2Fpasswd",
        "link.txt",
        "outside/secret.txt",
        "C:%5Cwindows%5Cwin.ini",
        "a%5C..%5C..%5Csecret.txt",
        "file:%2F%2F%2Fetc%2Fpasswd",
        "a/%2e/b",
        "a/%00/b",
    ],
)
async def test_result_keys_cannot_leave_the_store(store_client, key):
    http, root = store_client
    response = await http.get(f"/api/results/{key}")
    assert response.status_code in (404, 422), response.text
    assert b"do not serve" not in response.content
    written = await http.put(f"/api/results/{key}", content=b"overwritten")
    assert written.status_code in (404, 405, 422), written.text
    described = await http.head(f"/api/results/{key}")
    assert described.status_code in (404, 422), described.headers
    assert (root.parent / "secret.txt").read_text() == "do not serve"


@pytest.mark.parametrize("key", ["partita://../secret.txt", "partita://results/../../secret.txt",
                                 "partita:///etc/passwd", "partita://link.txt"])
async def test_result_records_naming_server_urls_cannot_leave_the_store(store_client, key):
    http, root = store_client
    state = {"type": "COMPLETED", "name": "Completed", "data": {"storage_key": key, "serializer": "json"}}
    flow = (await http.post("/api/flows/", json={"name": "f"})).json()
    run = (await http.post("/api/flow_runs/", json={"flow_id": flow["id"], "name": "r", "state": state})).json()
    record = (await http.get(f"/api/flow_runs/{run['id']}/result")).json()
    assert record["fetchable"] is False and record["storage_key"] == key


async def test_artifact_content_cannot_leave_the_store(store_client):
    http, root = store_client
    (root / "plot.png").write_bytes(b"\x89PNG...")
    made = await http.post("/api/artifacts/", json={"type": "image", "data": {"storage_key": "plot.png"}})
    assert made.status_code == 201, made.text
    content = await http.get(f"/api/artifacts/{made.json()['id']}/content")
    assert content.status_code == 200 and content.content == b"\x89PNG..."
    assert content.headers["content-type"] == "image/png"
    for key in ("../secret.txt", "/etc/passwd", "a/../../secret.txt"):
        refused = await http.post("/api/artifacts/", json={"type": "image", "data": {"storage_key": key}})
        assert refused.status_code == 422, key
    linked = await http.post("/api/artifacts/", json={"type": "image", "data": {"storage_key": "link.txt"}})
    assert linked.status_code == 201  # the key is well-formed; the symlink is caught on read
    read = await http.get(f"/api/artifacts/{linked.json()['id']}/content")
    assert read.status_code == 422 and b"do not serve" not in read.content


class _Trap:
    def __reduce__(self):
        return (Path.touch, (Path(os.environ["PARTITA_TRAP_FILE"]),))


async def test_received_pickles_are_stored_not_loaded(store_client, tmp_path, monkeypatch):
    http, root = store_client
    trap = tmp_path / "trap-sprung"
    monkeypatch.setenv("PARTITA_TRAP_FILE", str(trap))
    payload = pickle.dumps(_Trap())
    assert (await http.put("/api/results/evil.pkl", content=payload)).status_code == 204
    assert (await http.get("/api/results/evil.pkl")).content == payload
    state = {"type": "COMPLETED", "name": "Completed", "data": {"storage_key": str(root / "evil.pkl"), "serializer": "pickle"}}
    flow = (await http.post("/api/flows/", json={"name": "f"})).json()
    run = (await http.post("/api/flow_runs/", json={"flow_id": flow["id"], "name": "r", "state": state})).json()
    record = (await http.get(f"/api/flow_runs/{run['id']}/result")).json()
    assert record["storage_key"] == "evil.pkl" and record["fetchable"] is True
    assert not trap.exists()


def test_the_server_package_never_unpickles():
    package = Path(partita_workbench.server.__file__).parent
    sources = "\n".join(p.read_text() for p in package.rglob("*.py"))
    assert not re.search(r"\b(c?pickle|cloudpickle|dill|marshal)\.loads?\b", sources)
    assert "import pickle" not in sources and "import cloudpickle" not in sources
