"""docs/deployment-api.yaml stays valid and matches what the example service serves."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from examples.model_service.app import build_app
from tests.paths import ROOT
from tests.unit.examples.service import ServiceHost, client

SPEC_PATH = ROOT / "docs" / "deployment-api.yaml"
SPEC: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}

REQUIRED = {
    ("/v1/services/{service}", "get"),
    ("/v1/services/{service}/rollback", "post"),
    ("/v1/services/{service}/mode", "post"),
    ("/v1/services/{service}/freeze", "post"),
    ("/v1/services/{service}/unfreeze", "post"),
    ("/v1/services/{service}/deploy", "post"),
    ("/v1/services/{service}/rank", "post"),
    ("/metrics", "get"),
}


def spec_operations() -> set[tuple[str, str]]:
    return {(p, m) for p, item in SPEC["paths"].items() for m in item if m in METHODS}


def resolve(ref: str) -> Any:
    assert ref.startswith("#/"), f"only local refs are used: {ref}"
    node: Any = SPEC
    for part in ref[2:].split("/"):
        assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def test_the_spec_is_openapi_3_1_with_the_documented_paths() -> None:
    assert str(SPEC["openapi"]).startswith("3.1.")
    assert SPEC["info"]["title"] and SPEC["info"]["version"]
    assert spec_operations() >= REQUIRED
    for ref in refs(SPEC):
        resolve(ref)


def test_every_operation_declares_its_parameters_and_responses() -> None:
    for path, item in SPEC["paths"].items():
        shared = [resolve(p["$ref"]) if "$ref" in p else p for p in item.get("parameters", [])]
        for method in set(item) & METHODS:
            operation = item[method]
            params = shared + [
                resolve(p["$ref"]) if "$ref" in p else p for p in operation.get("parameters", [])
            ]
            in_path = {p["name"] for p in params if p["in"] == "path"}
            assert in_path == set(re.findall(r"{(\w+)}", path)), (path, method)
            assert operation["responses"], (path, method)
            if method == "post" and path != "/v1/services/{service}/rank":
                assert "Idempotency-Key" in {p["name"] for p in params}, path


def test_the_app_serves_exactly_the_spec() -> None:
    # FastAPI's own description of its routes (the app does not publish it) lists what it serves.
    generated = build_app().openapi()["paths"]
    served = {(path, method) for path, item in generated.items() for method in item}
    assert served == spec_operations()


def test_every_documented_operation_answers_over_http(host: ServiceHost) -> None:
    with client(host.serve()) as api:
        for path, method in sorted(spec_operations()):
            response = api.request(method, path.replace("{service}", "search-ranker"))
            assert response.status_code < 500, (path, method)
            if response.status_code >= 400:
                assert response.json()["error"] not in {"not_found", "method_not_allowed"}


def test_every_error_code_the_service_raises_is_documented() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "examples" / "model_service").glob("*.py"))
    raised = set(re.findall(r'ApiError\(\s*\d+,\s*"(\w+)"', source))
    assert {"unknown_service", "nothing_to_roll_back", "frozen"} <= raised  # the regex works
    documented = set(SPEC["components"]["schemas"]["Error"]["properties"]["error"]["enum"])
    assert raised <= documented


def test_the_state_schema_matches_the_served_state(host: ServiceHost) -> None:
    schema = SPEC["components"]["schemas"]["State"]
    with client(host.serve()) as api:
        body = api.get("/v1/services/search-ranker").json()
    assert set(schema["required"]) == set(schema["properties"]) == set(body)
    pattern = resolve("#/components/schemas/Version")["pattern"]
    assert re.match(pattern, body["active_version"])
    assert body["mode"] in resolve("#/components/schemas/Mode")["enum"]


def test_the_spec_validates_with_openapi_spec_validator() -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(SPEC)
