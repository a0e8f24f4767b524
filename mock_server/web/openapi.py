"""``GET /openapi.json``: an OpenAPI 3.1 document of the mock, built from the same ``schemas/`` files.

Askara publishes no OpenAPI file, so this is the mock's own description of the surface it serves:
request bodies and payloads reference the JSON Schemas the endpoints validate with, so the
document cannot drift from the validation. Each schema file becomes ``components/schemas/<stem>``;
its ``$id`` is dropped and every ``$ref`` (relative, ``$id``-based or internal ``#/$defs/...``)
is rewritten to point inside the document. Control API paths are listed under the
``x-askara-mock-control`` tag so tools can include or leave them out.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.core.packaged import SCHEMA_SUFFIX, schema_files
from mock_server.core.settings import Settings
from mock_server.web.http import json_response

CONTROL_TAG = "x-askara-mock-control"
NOT_API_SCHEMAS = ("scenario",)
SCOPES = {
    "profile": "Read the clinician's profile (GET /me).",
    "organization": "Read the organization and manage its webhooks.",
    "read:documents": "Read documents and download their PDFs.",
    "write:document_integrations": "Report the synchronization status of documents.",
    "read:notes": "Read notes generated from audio transcriptions.",
}
UUID = {"type": "string", "format": "uuid"}
JSON_TYPES = ("application/json", "application/ld+json")
AUTHORIZE_PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state")
EVENT_NAME_REF = "#/components/schemas/webhook/$defs/event_name"


def routes() -> list[BaseRoute]:
    return [Route("/openapi.json", openapi_json, methods=["GET"])]


async def openapi_json(request: Request) -> Response:
    return json_response(build(request.app.state.mock.settings))


# -- schemas -----------------------------------------------------------------------------------


@functools.cache
def component_schemas() -> dict[str, Any]:
    """Every API schema file of ``schemas/`` as an OpenAPI component, refs rewritten."""
    components: dict[str, Any] = {}
    for path in schema_files():
        name = path.name.removesuffix(SCHEMA_SUFFIX)
        if name in NOT_API_SCHEMAS:
            continue
        components[name] = _convert(json.loads(path.read_text(encoding="utf-8")), name)
    return components


def _convert(node: Any, owner: str) -> Any:
    if isinstance(node, list):
        return [_convert(item, owner) for item in node]
    if not isinstance(node, dict):
        return node
    converted: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("$id", "$schema"):
            continue
        if key == "$ref" and isinstance(value, str):
            converted[key] = _rewrite_ref(value, owner)
        elif key in ("properties", "$defs", "patternProperties", "dependentSchemas"):
            converted[key] = {name: _convert(sub, owner) for name, sub in value.items()}
        else:
            converted[key] = _convert(value, owner)
    return converted


def _rewrite_ref(ref: str, owner: str) -> str:
    target, _, fragment = ref.partition("#")
    name = owner if not target else target.rsplit("/", 1)[-1].removesuffix(".json").removesuffix(".schema")
    return f"#/components/schemas/{name}" + fragment


# -- document ----------------------------------------------------------------------------------


def _schema(name: str) -> dict[str, Any]:
    """A reference to a schema file when it exists; a plain object otherwise (still a valid document)."""
    if name in component_schemas():
        return {"$ref": f"#/components/schemas/{name}"}
    return {"type": "object", "description": f"({name} schema not written yet)"}


def _content(schema: dict[str, Any], types: tuple[str, ...] = JSON_TYPES) -> dict[str, Any]:
    return {media: {"schema": schema} for media in types}


def _ok(description: str, schema: dict[str, Any] | None = None, status: str = "200") -> dict[str, Any]:
    response: dict[str, Any] = {"description": description}
    if schema is not None:
        response["content"] = _content(schema)
    return {status: response}


def _problems(*codes: int) -> dict[str, Any]:
    return {str(code): {"$ref": f"#/components/responses/Problem{code}"} for code in codes}


def _html_error(description: str) -> dict[str, Any]:
    """Browser-facing OAuth pages answer errors as HTML for the user, not as problem documents."""
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def _param(name: str, where: str = "query", schema: dict[str, Any] | None = None, description: str = "") -> Any:
    param: dict[str, Any] = {"name": name, "in": where, "schema": schema or {"type": "string"}}
    if where == "path":
        param["required"] = True
    if description:
        param["description"] = description
    return param


def _collection_params(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"$ref": "#/components/parameters/page"}, {"$ref": "#/components/parameters/itemsPerPage"}, *extra]


def _form() -> dict[str, Any]:
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}}


def _list_of(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _schema(name)}


def _op(
    summary: str, tag: str, responses: dict[str, Any], *, scope: str | None = None, auth: bool = False, **extra: Any
) -> dict[str, Any]:
    """One operation; ``scope`` (or ``auth`` for "any valid token") adds the bearer requirement and its problems."""
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    if scope is not None or auth:
        op["security"] = [{"oauth2": [scope] if scope else []}]
        op["responses"] = {**responses, **_problems(401, 403, 429)}
    else:
        op["security"] = []
    op.update(extra)
    return op


def _body(schema: dict[str, Any], types: tuple[str, ...] = ("application/json", "application/ld+json")) -> Any:
    return {"required": True, "content": _content(schema, types)}


def public_paths() -> dict[str, Any]:
    date_filters = [
        _param(f"createdAt[{op}]", schema={"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]},
               description="API Platform date filter (ISO 8601 date or date-time; a bare date is midnight UTC).")
        for op in ("before", "strictly_before", "after", "strictly_after")
    ]
    order = _param("order[createdAt]", schema={"type": "string", "enum": ["asc", "desc"]})
    uuid_path = _param("uuid", "path", UUID)
    patient = {"$ref": "#/components/schemas/patient/$defs/Patient"} if "patient" in component_schemas() else {}
    patient_list = {"type": "array", "items": patient}
    webhook_item = {
        "parameters": [uuid_path],
        "get": _op("Read a webhook", "Webhook", {**_ok("The webhook", _schema("webhook-resource")), **_problems(404)},
                   scope="organization"),
        "put": _op("Replace a webhook", "Webhook", {**_ok("The webhook", _schema("webhook-resource")),
                                                     **_problems(400, 404, 415, 422)},
                   scope="organization", requestBody=_body(_schema("webhook"))),
        "patch": _op("Update a webhook (JSON merge patch)", "Webhook",
                     {**_ok("The webhook", _schema("webhook-resource")), **_problems(400, 404, 415, 422)},
                     scope="organization",
                     requestBody=_body(_schema("webhook-patch"), ("application/merge-patch+json",))),
        "delete": _op("Delete a webhook", "Webhook", {"204": {"description": "Deleted"}, **_problems(404)},
                      scope="organization"),
    }
    return {
        "/authorize": {
            "get": _op("Authorization code flow: consent page, then redirect with ?code&state", "OAuth2",
                       {"302": {"description": "Redirect to redirect_uri with code and state"},
                        "200": {"description": "Consent page (HTML)", "content": {"text/html": {"schema": {}}}},
                        "400": _html_error("Unknown client or redirect_uri: an HTML page, never a redirect")},
                       parameters=[_param(n) for n in AUTHORIZE_PARAMS]),
            "post": _op("Consent page decision (HTML form), then redirect with ?code&state or ?error", "OAuth2",
                        {"302": {"description": "Redirect to redirect_uri"},
                         "400": _html_error("Bad form, unknown client or redirect_uri (HTML page)"), **_problems(413)},
                        requestBody=_form()),
        },
        "/oauth2/token": {
            "post": _op("Token endpoint: authorization_code, refresh_token and device_code grants", "OAuth2",
                        {**_ok("A token pair", {"$ref": "#/components/schemas/TokenResponse"}),
                         "400": {"description": "OAuth2 error", "content": _content(
                             {"$ref": "#/components/schemas/OAuthError"}, ("application/json",))},
                         "401": {"description": "Client authentication failed", "content": _content(
                             {"$ref": "#/components/schemas/OAuthError"}, ("application/json",))}},
                        requestBody={"required": True, "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/TokenRequest"}},
                            "application/x-www-form-urlencoded": {
                                "schema": {"$ref": "#/components/schemas/TokenRequest"}}}}),
        },
        "/oauth2/device": {
            "post": _op("Device authorization request (RFC 8628)", "OAuth2",
                        {**_ok("device_code, user_code, verification_uri, interval, expires_in",
                               {"type": "object"}),
                         "400": {"description": "OAuth2 error", "content": _content(
                             {"$ref": "#/components/schemas/OAuthError"}, ("application/json",))}},
                        requestBody={"required": True, "content": {
                            "application/json": {"schema": {"type": "object"}},
                            "application/x-www-form-urlencoded": {"schema": {"type": "object"}}}}),
        },
        "/device": {
            "get": _op("Device verification page (HTML)", "OAuth2",
                       {"200": {"description": "HTML page", "content": {"text/html": {"schema": {}}}},
                        "400": _html_error("Unknown or expired user code (HTML page)")},
                       parameters=[_param("user_code")]),
            "post": _op("Device verification decision (HTML form)", "OAuth2",
                        {"200": {"description": "HTML page", "content": {"text/html": {"schema": {}}}},
                         "400": _html_error("Bad form, unknown or expired user code (HTML page)"), **_problems(413)},
                        requestBody=_form()),
        },
        "/.well-known/jwks.json": {
            "get": _op("Public key of the access tokens (JWK set)", "OAuth2", _ok("JWK set", {"type": "object"})),
        },
        "/me": {
            "get": _op("The authenticated clinician", "User", {**_ok("The user", _schema("user"))}, scope="profile"),
            "post": _op("Same as GET (the quickstart calls it with POST)", "User", {**_ok("The user", _schema("user"))},
                        scope="profile"),
        },
        "/patients": {
            "get": _op("List patients", "Patient", {**_ok("Patients", patient_list), **_problems(400)},
                       auth=True,
                       parameters=_collection_params(_param("search"), _param("externalId"),
                                                     _param("order[lastName]", schema={"enum": ["asc", "desc"]}))),
            "post": _op("Create a patient", "Patient",
                        {**_ok("The patient", patient, "201"), **_problems(400, 415, 422)},
                        auth=True, requestBody=_body(_schema("patient"))),
        },
        "/patients/{uuid}": {
            "parameters": [uuid_path],
            "get": _op("Read a patient", "Patient", {**_ok("The patient", patient), **_problems(404)}, auth=True),
        },
        "/documents": {
            "get": _op("List documents (poll with synchronized=false)", "Document",
                       {**_ok("Documents with embedded pdf and patient", _list_of("document")), **_problems(400)},
                       scope="read:documents",
                       parameters=_collection_params(
                           _param("synchronized", schema={"type": "string", "enum": ["true", "false", "1", "0"]}),
                           _param("patient", schema=UUID), order, *date_filters)),
        },
        "/documents/{uuid}": {
            "parameters": [uuid_path],
            "get": _op("Read a document (with a freshly pre-signed PDF link)", "Document",
                       {**_ok("The document", _schema("document")), **_problems(404)}, scope="read:documents"),
        },
        "/documents/{uuid}/status": {
            "parameters": [uuid_path],
            "post": _op("Report the synchronization status of a document", "Document",
                        {**_ok("The document, synchronized or carrying the error", _schema("document")),
                         **_problems(400, 404, 415, 422)},
                        scope="write:document_integrations", requestBody=_body(_schema("status-report"))),
        },
        "/notes": {
            "get": _op("List notes", "Note", {**_ok("Notes", _list_of("note")), **_problems(400)}, scope="read:notes",
                       parameters=_collection_params(_param("patient", schema=UUID), _param("audio"), order,
                                                     *date_filters)),
        },
        "/notes/{uuid}": {
            "parameters": [uuid_path],
            "get": _op("Read a note", "Note", {**_ok("The note", _schema("note")), **_problems(404)},
                       scope="read:notes"),
        },
        "/webhooks": {
            "get": _op("List the organization's webhooks", "Webhook",
                       {**_ok("Webhooks", {"type": "array", "items": _schema("webhook-resource")}), **_problems(400)},
                       scope="organization", parameters=_collection_params()),
            "post": _op("Register a webhook", "Webhook",
                        {**_ok("The webhook, with its uuid", _schema("webhook-resource"), "201"),
                         **_problems(400, 413, 415, 422)},
                        scope="organization", requestBody=_body(_schema("webhook"))),
        },
        "/webhooks/{uuid}": webhook_item,
        "/files/documents/{document_uuid}/{file_name}": {
            "get": _op("Download a PDF through a pre-signed link (no bearer token; 403 XML once expired)", "File",
                       {"200": {"description": "The PDF", "content": {"application/pdf": {
                           "schema": {"type": "string", "contentMediaType": "application/pdf"}}}},
                        "403": {"description": "Expired or tampered link (S3-style XML error)",
                                "content": {"application/xml": {"schema": {"type": "string"}}}},
                        "404": {"description": "No such file", "content": {"application/xml": {
                            "schema": {"type": "string"}}}}},
                       parameters=[_param("document_uuid", "path", UUID), _param("file_name", "path"),
                                   {**_param("expires", schema={"type": "integer"}), "required": True},
                                   {**_param("signature"), "required": True}]),
        },
    }


def control_paths() -> dict[str, Any]:
    def ctl(summary: str, body: str | None = None, status: str = "200", **extra: Any) -> dict[str, Any]:
        responses = {status: {"description": "OK", "content": {"application/json": {"schema": {}}}},
                     **_problems(400, 404, 415, 422)}
        op = _op(summary, CONTROL_TAG, responses, **extra)
        if body is not None:
            op["requestBody"] = {"required": False, "content": {"application/json": {"schema": _schema(body)}}}
        return op

    uuid_path = [_param("uuid", "path", UUID)]
    return {
        "/_mock/credentials": {"get": ctl("Client credentials and a fresh refresh token",
                                          parameters=[_param("scope")]),
                               "post": ctl("Register the refresh token of an already-running integration",
                                           "control-credentials")},
        "/_mock/clock": {"get": ctl("The mock clock")},
        "/_mock/clock/advance": {"post": ctl("Move the mock clock forward", "clock-advance")},
        "/_mock/documents": {"get": ctl("Every document, drafts and internal sync state included"),
                             "post": ctl("Create a document (validate: true fires new_document)",
                                         "control-document", "201")},
        "/_mock/documents/{uuid}": {"get": ctl("One document record", parameters=uuid_path)},
        "/_mock/documents/{uuid}/validate": {"post": ctl("Validate: fires new_document", parameters=uuid_path)},
        "/_mock/documents/{uuid}/synchronize": {"post": ctl("Synchronize button: fires document_synchronize",
                                                            parameters=uuid_path)},
        "/_mock/notes": {"get": ctl("Every note"),
                         "post": ctl("Generate a note: fires new_note", "control-note", "201")},
        "/_mock/status-reports": {"get": ctl("Status reports received", parameters=[_param("document", schema=UUID)])},
        "/_mock/journal": {"get": ctl("Requests answered", parameters=[
            _param("since", schema={"type": "integer", "minimum": 0}), _param("kind"), _param("path"),
            _param("limit", schema={"type": "integer", "minimum": 1})])},
        "/_mock/events": {"get": ctl("Events emitted", parameters=[_param("action"), _param("id")])},
        "/_mock/webhooks": {"get": ctl("Every webhook record")},
        "/_mock/device/approve": {"post": ctl("Approve a device-flow user code", "control-device-approve")},
        "/_mock/reset": {"post": ctl("Back to the seeded state")},
        "/_mock/faults": {"get": ctl("Active faults"), "post": ctl("Inject a fault", "fault", "201"),
                          "delete": ctl("Remove every fault")},
        "/_mock/faults/kinds": {"get": ctl("Every fault kind this mock knows")},
        "/_mock/faults/{fault_id}": {"delete": ctl("Remove one fault", status="204",
                                                   parameters=[_param("fault_id", "path")])},
        "/_mock/deliveries": {"get": ctl("Webhook deliveries with every attempt")},
        "/_mock/failures": {"get": ctl("The failure queue")},
        "/_mock/deliveries/{id}": {"get": ctl("One delivery with every attempt", parameters=[_param("id", "path")])},
        "/_mock/deliveries/{id}/redeliver": {"post": ctl("Send a delivery again",
                                                         parameters=[_param("id", "path")])},
        "/_mock/webhooks/{uuid}/send": {"post": ctl("Deliver hand-made events to one webhook",
                                                    "control-webhook-send", "202", parameters=uuid_path)},
    }


def _problem_responses() -> dict[str, Any]:
    titles = {400: "Bad request (malformed JSON, bad query parameter)", 401: "Missing, invalid or expired token",
              403: "Missing scope", 404: "Not found", 413: "Body too large", 415: "Unsupported content type",
              422: "Validation failed (violations name each field)", 429: "Rate limited (Retry-After)"}
    schema = {"$ref": "#/components/schemas/Problem"}
    return {
        f"Problem{code}": {
            "description": text,
            "content": {"application/problem+json": {"schema": schema}, "application/ld+json": {"schema": schema}},
        }
        for code, text in titles.items()
    }


def _builtin_schemas() -> dict[str, Any]:
    string = {"type": "string"}
    return {
        "Problem": {
            "type": "object",
            "required": ["title", "detail", "status"],
            "properties": {
                "type": string, "title": string, "detail": string, "status": {"type": "integer"},
                "instance": {"type": ["string", "null"]},
                "violations": {"type": "array", "items": {
                    "type": "object", "required": ["propertyPath", "message"],
                    "properties": {"propertyPath": string, "message": string, "code": {"type": ["string", "null"]}}}},
            },
        },
        "TokenRequest": {
            "type": "object", "required": ["grant_type"],
            "properties": {"grant_type": {"enum": ["authorization_code", "refresh_token",
                                                   "urn:ietf:params:oauth:grant-type:device_code"]},
                           **{n: string for n in ("code", "redirect_uri", "refresh_token", "device_code",
                                                  "client_id", "client_secret", "scope")}},
        },
        "TokenResponse": {
            "type": "object", "required": ["token_type", "expires_in", "access_token", "refresh_token"],
            "properties": {"token_type": {"const": "Bearer"}, "expires_in": {"type": "integer"},
                           "access_token": string, "refresh_token": string},
        },
        "OAuthError": {"type": "object", "required": ["error"],
                       "properties": {"error": string, "error_description": string, "message": string}},
        "webhook-resource": {
            "type": "object", "required": ["uuid", "url", "events", "active", "createdAt", "updatedAt"],
            "properties": {"uuid": UUID, "url": string,
                           "events": {"type": "array", "items": {"$ref": EVENT_NAME_REF}},
                           "active": {"type": "boolean"}, "createdAt": {"type": "string", "format": "date-time"},
                           "updatedAt": {"type": "string", "format": "date-time"}},
        },
    }


def build(settings: Settings) -> dict[str, Any]:
    """The whole document for one mock (server URL and OAuth URLs follow its base URL)."""
    base = settings.base_url
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Askara API (askara-mock)",
            "version": "1.0.0",
            "description": "The Askara API as askara-mock serves it. Askara publishes no OpenAPI file: paths and "
            "payloads follow its guides, the rest follows API Platform conventions (docs/assumptions).",
        },
        "servers": [{"url": base}],
        "tags": [{"name": CONTROL_TAG, "description": "askara-mock's control API (/_mock): not part of Askara."}],
        "paths": {**public_paths(), **control_paths()},
        "webhooks": {
            "delivery": {"post": {"summary": "What Askara posts to a registered webhook URL",
                                  "requestBody": {"required": True, "content": {"application/json": {
                                      "schema": _schema("webhook-event")}}},
                                  "responses": {"200": {"description": "Acknowledge within 5 s"}}}},
        },
        "components": {
            "schemas": {**_builtin_schemas(), **component_schemas()},
            "responses": _problem_responses(),
            "parameters": {
                "page": _param("page", schema={"type": "integer", "minimum": 1, "default": 1}),
                "itemsPerPage": _param("itemsPerPage", schema={"type": "integer", "minimum": 0, "default": 20},
                                       description="Above 100 is capped to 100 (API Platform maximum_items_per_page)."),
            },
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "description": "Authorization code and device code (RFC 8628) flows; refresh tokens rotate. "
                    f"Device authorization endpoint: {base}/oauth2/device (OpenAPI 3.1 has no device flow object).",
                    "flows": {
                        "authorizationCode": {"authorizationUrl": f"{base}/authorize",
                                              "tokenUrl": f"{base}/oauth2/token",
                                              "refreshUrl": f"{base}/oauth2/token", "scopes": SCOPES},
                    },
                    "x-device-authorization-url": f"{base}/oauth2/device",
                },
            },
        },
        "security": [{"oauth2": []}],
    }
