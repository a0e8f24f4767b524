"""GET /openapi.json: a valid OpenAPI 3.1 document covering every public route, built from schemas/."""

from __future__ import annotations

import json

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from mock_server.core.packaged import SCHEMA_SUFFIX, schema_files
from mock_server.web.middleware import classify
from mock_server.web.openapi import CONTROL_TAG
from mock_server.web.routing import ExplainedRefusal


@pytest.fixture
def document(client: TestClient) -> dict:  # type: ignore[type-arg]
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return response.json()  # type: ignore[no-any-return]


def test_is_valid_openapi_3_1(document: dict) -> None:  # type: ignore[type-arg]
    validator = pytest.importorskip("openapi_spec_validator")
    assert document["openapi"].startswith("3.1")
    validator.validate(document)


def test_every_public_route_is_documented(client: TestClient, document: dict) -> None:  # type: ignore[type-arg]
    missing = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        if not isinstance(route, Route) or classify(route.path) == "control" or route.path == "/openapi.json":
            continue
        if isinstance(route, ExplainedRefusal):
            continue  # a method refused on purpose (POST /me): not an operation
        operations = document["paths"].get(route.path)
        if operations is None:
            missing.append(route.path)
            continue
        for method in (route.methods or set()) - {"HEAD"}:
            if method.lower() not in operations:
                missing.append(f"{method} {route.path}")
    assert not missing, f"routes missing from /openapi.json: {missing}"


def test_every_documented_public_path_is_routed(client: TestClient, document: dict) -> None:  # type: ignore[type-arg]
    routed = {route.path for route in client.app.routes if isinstance(route, Route)}  # type: ignore[attr-defined]
    public = {path for path, ops in document["paths"].items() if "servers" not in ops
              and not any(CONTROL_TAG in op.get("tags", []) for op in ops.values() if isinstance(op, dict))}
    assert public <= routed, public - routed


def test_the_files_origin_is_a_server_of_its_own(client: TestClient, document: dict) -> None:  # type: ignore[type-arg]
    """The PDF path is no API route: it lives on the files origin, with the S3 query signature required."""
    settings = client.app.state.mock.settings  # type: ignore[attr-defined]
    own = {path: item for path, item in document["paths"].items() if "servers" in item}
    assert list(own) == [f"/{settings.files_bucket}/{{document_uuid}}/{{file_name}}"]
    item = next(iter(own.values()))
    assert item["servers"] == [{"url": settings.files_base_url, "description": item["servers"][0]["description"]}]
    assert settings.files_base_url == "http://127.0.0.1:8766"
    assert set(item) == {"servers", "get", "head"}
    required = {p["name"] for p in item["get"]["parameters"] if p.get("required") and p["in"] == "query"}
    assert required == {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
                        "X-Amz-Signature"}
    assert item["get"]["security"] == []
    assert "application/xml" in item["get"]["responses"]["403"]["content"]
    routed = {route.path for route in client.app.routes if isinstance(route, Route)}  # type: ignore[attr-defined]
    assert not any(path.startswith(("/files", "/" + settings.files_bucket)) for path in routed)


def test_components_come_from_the_schema_files(document: dict) -> None:  # type: ignore[type-arg]
    schemas = document["components"]["schemas"]
    for path in schema_files():
        name = path.name.removesuffix(SCHEMA_SUFFIX)
        if name == "scenario":
            continue
        assert name in schemas
    text = json.dumps(document)
    assert '"$id"' not in text
    refs = [value for value in _refs(document) if not value.startswith("#/components/")]
    assert refs == [], refs
    event_name = {"$ref": "#/components/schemas/webhook/$defs/event_name"}
    assert schemas["webhook"]["properties"]["events"]["items"] == event_name
    assert document["paths"]["/webhooks"]["post"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/webhook"}


def test_security_scopes_and_problems(document: dict) -> None:  # type: ignore[type-arg]
    oauth = document["components"]["securitySchemes"]["oauth2"]
    flow = oauth["flows"]["authorizationCode"]
    assert flow["authorizationUrl"].endswith("/authorize")
    assert flow["tokenUrl"].endswith("/oauth2/token")
    assert set(flow["scopes"]) == {"profile", "organization", "read:documents", "write:document_integrations",
                                   "read:notes"}
    get_documents = document["paths"]["/documents"]["get"]
    assert get_documents["security"] == [{"oauth2": ["read:documents"]}]
    names = {p.get("name") or p["$ref"].rsplit("/", 1)[-1] for p in get_documents["parameters"]}
    assert {"page", "itemsPerPage", "synchronized"} <= names
    assert get_documents["responses"]["429"] == {"$ref": "#/components/responses/Problem429"}
    assert "violations" in document["components"]["schemas"]["Problem"]["properties"]


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def test_collection_parameters_say_exactly_what_each_list_accepts(client: TestClient, document: dict) -> None:  # type: ignore[type-arg]
    """Empty values: string filters allow them (matched literally), uuid and relation filters refuse them."""
    documents = {p.get("name"): p for p in document["paths"]["/documents"]["get"]["parameters"] if "name" in p}
    patient = documents["patient"]
    assert patient["allowEmptyValue"] is False and patient["schema"]["pattern"].startswith("^(?:(?:https?://")
    assert documents["type"]["allowEmptyValue"] is True
    assert documents["synchronized"]["schema"]["enum"] == ["true", "1", "false", "0"]
    assert "createdAt[after]" in documents and "createdAt[gte]" not in documents
    patients = {p.get("name") for p in document["paths"]["/patients"]["get"]["parameters"]}
    assert {"search", "user.email", "user.uuid[]", "createdAt[between]", "order[anonymousCode]"} <= patients
    assert not {"id", "client", "createdAt[after]"} & patients
    audios = {p.get("name") for p in document["paths"]["/audios"]["get"]["parameters"]}
    assert {"exists[archivedAt]", "documents[]", "expand[]", "archivedAt[lte]", "order[patient]"} <= audios
    specs = client.app.state.collection_specs  # type: ignore[attr-defined]
    assert set(specs) == {"/patients", "/documents", "/notes", "/audios", "/webhooks"}
