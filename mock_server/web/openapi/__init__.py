"""``GET /openapi.json``: an OpenAPI 3.1 document of the mock, built from the same ``schemas/`` files.

Askara publishes no OpenAPI file, so this is the mock's own description of the surface it serves:
request bodies and payloads reference the JSON Schemas the endpoints validate with, so the
document cannot drift from the validation. Each schema file becomes ``components/schemas/<stem>``;
its ``$id`` is dropped and every ``$ref`` (relative, ``$id``-based or internal ``#/$defs/...``)
is rewritten to point inside the document. Control API paths are listed under the
``x-askara-mock-control`` tag so tools can include or leave them out. Under
``--documented-only`` the operations and fields Askara does not document (``invented``
assumptions) are left out, as the mock then leaves them out of what it serves.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.core.assumptions import DOCUMENT_EXTRA_FIELDS, NOTE_AUDIO_FIELD, Assumption, invented_operations
from mock_server.core.settings import Settings
from mock_server.web.filters import DEFAULT_ITEMS_PER_PAGE, LARGEST_INTEGER, MAX_ITEMS_PER_PAGE, CollectionSpec
from mock_server.web.http import json_response
from mock_server.web.openapi.control import control_paths
from mock_server.web.openapi.parts import (
    CONTROL_TAG,
    SCOPES,
    builtin_schemas,
    component_schemas,
    parameter,
    problem_responses,
    ref,
)
from mock_server.web.openapi.public import files_paths, public_paths

__all__ = ["CONTROL_TAG", "build", "component_schemas", "routes"]
INVENTED_FIELDS: dict[str, Assumption] = {"document": DOCUMENT_EXTRA_FIELDS, "note": NOTE_AUDIO_FIELD}
"""Component schema -> the assumption whose fields it describes only because the mock invented them."""


def routes() -> list[BaseRoute]:
    return [Route("/openapi.json", openapi_json, methods=["GET"])]


async def openapi_json(request: Request) -> Response:
    return json_response(build(request.app.state.mock.settings, request.app.state.collection_specs))


def build(settings: Settings, specs: Mapping[str, CollectionSpec]) -> dict[str, Any]:
    """The whole document for one mock (server URL and OAuth URLs follow its base URL).

    ``specs``: the collection path -> spec of each list, so its parameters are written from what it accepts.
    """
    base = settings.base_url
    paths = {**public_paths(settings, specs), **files_paths(settings), **control_paths()}
    schemas = {**builtin_schemas(), **component_schemas()}
    if settings.documented_only:
        paths, schemas = _documented_only(paths, schemas)
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
        "paths": paths,
        "webhooks": {
            "delivery": {"post": {"summary": "What Askara posts to a registered webhook URL",
                                  "requestBody": {"required": True, "content": {"application/json": {
                                      "schema": ref("webhook-event")}}},
                                  "responses": {"200": {"description": "Acknowledge within 5 s"}}}},
        },
        "components": {
            "schemas": schemas,
            "responses": problem_responses(),
            "parameters": {
                "page": parameter("page", schema={"type": "integer", "minimum": 1, "maximum": LARGEST_INTEGER,
                                                  "default": 1}, description="A page past the end is empty."),
                "itemsPerPage": parameter(
                    "itemsPerPage", schema={"type": "integer", "minimum": 0, "maximum": LARGEST_INTEGER,
                                            "default": DEFAULT_ITEMS_PER_PAGE},
                    description=f"Askara documents 0..{MAX_ITEMS_PER_PAGE}; above, the page holds "
                    f"{MAX_ITEMS_PER_PAGE} items (API Platform's maximum_items_per_page caps, it does not refuse)."),
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


def _documented_only(paths: dict[str, Any], schemas: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The paths without invented operations (a path left with none goes), the schemas without invented fields."""
    paths = copy.deepcopy(paths)
    for method, path in invented_operations():
        operations = paths.get(path, {})
        operations.pop(method.lower(), None)
        if not any(key in operations for key in ("get", "put", "post", "patch", "delete")):
            paths.pop(path, None)
    schemas = dict(schemas)
    for name, entry in INVENTED_FIELDS.items():
        if name in schemas:
            schema = schemas[name] = copy.deepcopy(schemas[name])
            for field in entry.fields:
                schema.get("properties", {}).pop(field, None)
            if "required" in schema:
                schema["required"] = [f for f in schema["required"] if f not in entry.fields]
    return paths, schemas
