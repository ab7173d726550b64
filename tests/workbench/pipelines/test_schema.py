"""``schemas/pipeline.schema.json``: generated from the spec models, committed, described, usable by editors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from partita_workbench.pipelines.schema import SCHEMA_FILE, schema_text
from partita_workbench.pipelines.yamlio import to_plain

ROOT = Path(__file__).parents[3]


def committed() -> dict:
    return json.loads((ROOT / SCHEMA_FILE).read_text(encoding="utf-8"))


def test_committed_schema_matches_the_models():
    assert (ROOT / SCHEMA_FILE).read_text(encoding="utf-8") == schema_text(), (
        "schemas/pipeline.schema.json is out of date: run 'python -m partita_workbench.pipelines.schema .'"
    )


def _properties(schema: dict, path: str = ""):
    for name, prop in schema.get("properties", {}).items():
        yield f"{path}{name}", prop
    for name, definition in schema.get("$defs", {}).items():
        yield from _properties(definition, f"{name}.")


def test_every_key_has_a_description():
    schema = committed()
    undescribed = [name for name, prop in _properties(schema) if not prop.get("description")]
    assert undescribed == []
    assert all(d.get("description") for d in schema["$defs"].values())


def test_every_key_of_the_format_is_in_the_schema():
    defs = committed()["$defs"]
    assert set(committed()["properties"]) == {"name", "description", "parameters", "defaults", "env", "tasks"}
    assert {"python", "notebook", "shell", "pipeline", "with", "parameters", "needs", "map", "if", "retries",
            "retry_delay_seconds", "timeout_seconds", "cache", "tags", "env", "outputs"} <= set(defs["TaskSpec"]["properties"])
    assert set(defs["ParameterSpec"]["properties"]["type"]["enum"]) == {
        "string", "integer", "number", "boolean", "array", "object", "date", "datetime"}
    assert set(defs["CacheSpec"]["properties"]) == {"policy", "expiration"}


def _yaml_blocks(markdown: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", markdown, re.DOTALL)


def _documents() -> list[tuple[str, object]]:
    docs = [("quickstart", (ROOT / "notebooks" / "quickstart" / "pipeline.yaml").read_text())]
    blocks = _yaml_blocks((ROOT / "docs" / "pipeline-yaml.md").read_text())
    docs += [(f"docs block {i}", text) for i, text in enumerate(blocks) if text.lstrip().startswith(("name:", "#"))]
    return [(name, to_plain(YAML(typ="rt").load(text))) for name, text in docs]


@pytest.mark.parametrize(("name", "document"), _documents(), ids=lambda v: v if isinstance(v, str) else "")
def test_real_pipelines_and_the_documented_example_match_the_schema(name, document):
    jsonschema.Draft202012Validator(committed()).validate(document)


def test_the_schema_rejects_an_unknown_key_and_a_wrong_type():
    validator = jsonschema.Draft202012Validator(committed())
    bad = {"name": "x", "tasks": {"a": {"shell": "echo", "nedds": [], "retries": "many"}}}
    errors = {(tuple(e.absolute_path), e.validator) for e in validator.iter_errors(bad)}
    assert (("tasks", "a"), "additionalProperties") in errors
    assert (("tasks", "a", "retries"), "anyOf") in errors or (("tasks", "a", "retries"), "type") in errors
