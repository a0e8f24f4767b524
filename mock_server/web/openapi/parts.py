"""Building blocks of the OpenAPI document: the schema components and small constructors."""

from __future__ import annotations

import functools
import json
from typing import Any

from mock_server.core.packaged import SCHEMA_SUFFIX, schema_files

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
EVENT_NAME_REF = "#/components/schemas/webhook/$defs/event_name"


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


def ref(name: str) -> dict[str, Any]:
    """A reference to a schema file when it exists; a plain object otherwise (still a valid document)."""
    if name in component_schemas():
        return {"$ref": f"#/components/schemas/{name}"}
    return {"type": "object", "description": f"({name} schema not written yet)"}


def content(schema: dict[str, Any], types: tuple[str, ...] = JSON_TYPES) -> dict[str, Any]:
    return {media: {"schema": schema} for media in types}


def ok(description: str, schema: dict[str, Any] | None = None, status: str = "200") -> dict[str, Any]:
    response: dict[str, Any] = {"description": description}
    if schema is not None:
        response["content"] = content(schema)
    return {status: response}


def problems(*codes: int) -> dict[str, Any]:
    return {str(code): {"$ref": f"#/components/responses/Problem{code}"} for code in codes}


def html_error(description: str) -> dict[str, Any]:
    """Browser-facing OAuth pages answer errors as HTML for the user, not as problem documents."""
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def parameter(name: str, where: str = "query", schema: dict[str, Any] | None = None, description: str = "") -> Any:
    param: dict[str, Any] = {"name": name, "in": where, "schema": schema or {"type": "string"}}
    if where == "path":
        param["required"] = True
    if description:
        param["description"] = description
    return param


def collection_params(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"$ref": "#/components/parameters/page"}, {"$ref": "#/components/parameters/itemsPerPage"}, *extra]


def form_body() -> dict[str, Any]:
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}}


def list_of(name: str) -> dict[str, Any]:
    return {"type": "array", "items": ref(name)}


def op(
    summary: str, tag: str, responses: dict[str, Any], *, scope: str | None = None, auth: bool = False, **extra: Any
) -> dict[str, Any]:
    """One operation; ``scope`` (or ``auth`` for "any valid token") adds the bearer requirement and its problems."""
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    if scope is not None or auth:
        op["security"] = [{"oauth2": [scope] if scope else []}]
        op["responses"] = {**responses, **problems(401, 403, 406, 429)}
    else:
        op["security"] = []
    op.update(extra)
    return op


def request_body(schema: dict[str, Any], types: tuple[str, ...] = ("application/json", "application/ld+json")) -> Any:
    return {"required": True, "content": content(schema, types)}


def problem_responses() -> dict[str, Any]:
    titles = {400: "Bad request (malformed JSON, bad query parameter)", 401: "Missing, invalid or expired token",
              403: "Missing scope", 404: "Not found", 405: "Method not allowed (Allow names the routed methods)",
              406: "Accept names no supported type (application/json, application/ld+json, application/problem+json)",
              409: "Conflict (the state forbids it now: already validated, Synchronize too soon, already registered)",
              413: "Body too large", 415: "Unsupported content type",
              422: "Validation failed (violations name each field)", 429: "Rate limited (Retry-After)"}
    schema = {"$ref": "#/components/schemas/Problem"}
    responses = {
        f"Problem{code}": {
            "description": text,
            "content": {"application/problem+json": {"schema": schema}, "application/ld+json": {"schema": schema}},
        }
        for code, text in titles.items()
    }
    # league's Symfony bundle answers 401/403 in plain text (empty without credentials), not problem documents.
    plain = {"text/plain": {"schema": {"type": "string"}}}
    explanation = {"X-Askara-Mock-Explanation": {"description": "What the mock saw (the mock's own header)",
                                                 "schema": {"type": "string"}}}
    for code in (401, 403):
        responses[f"Problem{code}"] = {"description": titles[code] + " (plain text, as league's bundle answers)",
                                       "content": plain, "headers": explanation}
    return responses


def builtin_schemas() -> dict[str, Any]:
    string = {"type": "string"}
    filled = {"type": "string", "minLength": 1}
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
            "type": "object", "required": ["grant_type", "client_id"], "additionalProperties": string,
            "description": "String parameters (empty counts as absent); client_id may travel as HTTP Basic instead.",
            "properties": {"grant_type": {"enum": ["authorization_code", "refresh_token",
                                                   "urn:ietf:params:oauth:grant-type:device_code"]},
                           **{n: filled for n in ("code", "redirect_uri", "refresh_token", "device_code",
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
