"""The public API's paths: what Askara serves, as the mock serves it.

Collection parameters are generated from each resource's :class:`CollectionSpec` (handed in by
the app), so the document names exactly the filters, operators and values the mock accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_server.core.settings import Settings
from mock_server.core.sigv4 import ALGORITHM, AMZ_DATE_PATTERN, MAX_EXPIRES
from mock_server.core.timefmt import BASIC_DAY
from mock_server.web.filters import CollectionSpec
from mock_server.web.openapi.filters import collection_parameters
from mock_server.web.openapi.oauth import oauth_paths
from mock_server.web.openapi.parts import (
    UUID,
    component_schemas,
    list_of,
    ok,
    op,
    parameter,
    problems,
    ref,
    request_body,
)

NOT_MOCKED = (
    "Askara also documents id and client (and order[id]); the mock has no values for them and refuses them "
    "(400, not mocked) rather than ignore them."
)

WEBHOOK_LINKS = {
    name: {"operationId": operation, "parameters": {"uuid": "$response.body#/uuid"},
           "description": f"{name} the webhook just registered"}
    for name, operation in (("Get", "getWebhook"), ("Replace", "replaceWebhook"), ("Update", "updateWebhook"),
                            ("Delete", "deleteWebhook"))
}  # fmt: skip
"""OpenAPI links from POST /webhooks to its item operations, so a stateful fuzzer creates, then reads and deletes."""


def _me(settings: Settings) -> dict[str, Any]:
    user = {**ok("The user", ref("user"))}
    item: dict[str, Any] = {"get": op("The authenticated clinician", "User", user, scope="profile")}
    if settings.me_accepts_post:
        item["post"] = op("Same as GET (the quickstart calls it with POST; serve --me-accepts-post)", "User", user,
                          scope="profile")
    return item


def public_paths(settings: Settings, specs: Mapping[str, CollectionSpec]) -> dict[str, Any]:
    """Every public path; ``specs`` maps a collection path (``/documents``) to the spec its list follows."""
    uuid_path = parameter("uuid", "path", UUID)
    patient = {"$ref": "#/components/schemas/patient/$defs/Patient"} if "patient" in component_schemas() else {}
    patient_list = {"type": "array", "items": patient}
    expand = [{"name": "expand[]", "in": "query", "allowEmptyValue": False,
               "description": "Embed the patient instead of its IRI (repeatable); any other value is a 400.",
               "schema": {"type": "string", "enum": ["patient.read", "patient.list"]}}]
    webhook_item = {
        "parameters": [uuid_path],
        "get": op("Read a webhook", "Webhook", {**ok("The webhook", ref("webhook-resource")), **problems(404)},
                   scope="organization", operationId="getWebhook"),
        "put": op("Replace a webhook", "Webhook", {**ok("The webhook", ref("webhook-resource")),
                                                     **problems(400, 404, 415, 422)},
                   scope="organization", requestBody=request_body(ref("webhook")), operationId="replaceWebhook"),
        "patch": op("Update a webhook (JSON merge patch)", "Webhook",
                     {**ok("The webhook", ref("webhook-resource")), **problems(400, 404, 415, 422)},
                     scope="organization",
                     requestBody=request_body(ref("webhook-patch"), ("application/merge-patch+json",)),
                     operationId="updateWebhook"),
        "delete": op("Delete a webhook", "Webhook", {"204": {"description": "Deleted"}, **problems(404)},
                      scope="organization", operationId="deleteWebhook"),
    }
    return {
        **oauth_paths(settings),
        "/me": _me(settings),
        "/patients": {
            "get": op("List patients", "Patient", {**ok("Patients", patient_list), **problems(400)},
                       auth=True, description=NOT_MOCKED, parameters=collection_parameters(specs["/patients"])),
            "post": op("Create a patient", "Patient",
                        {**ok("The patient", patient, "201"), **problems(400, 415, 422)},
                        auth=True, requestBody=request_body(ref("patient"))),
        },
        "/patients/{uuid}": {
            "parameters": [uuid_path],
            "get": op("Read a patient", "Patient", {**ok("The patient", patient), **problems(404)}, auth=True),
        },
        "/documents": {
            "get": op("List documents (poll with synchronized=false)", "Document",
                       {**ok("Documents with embedded pdf and patient", list_of("document")), **problems(400)},
                       scope="read:documents", parameters=collection_parameters(specs["/documents"])),
        },
        "/documents/{uuid}": {
            "parameters": [uuid_path],
            "get": op("Read a document (with a freshly pre-signed PDF link)", "Document",
                       {**ok("The document", ref("document")), **problems(404)}, scope="read:documents"),
        },
        "/documents/{uuid}/status": {
            "parameters": [uuid_path],
            "post": op("Report the synchronization status of a document", "Document",
                        {**ok("The document, synchronized or carrying the error", ref("document")),
                         **problems(400, 404, 415, 422)},
                        scope="write:document_integrations", requestBody=request_body(ref("status-report"))),
        },
        "/notes": {
            "get": op("List notes", "Note", {**ok("Notes", list_of("note")), **problems(400)}, scope="read:notes",
                       parameters=collection_parameters(specs["/notes"])),
        },
        "/notes/{uuid}": {
            "parameters": [uuid_path],
            "get": op("Read a note", "Note", {**ok("The note", ref("note")), **problems(404)},
                       scope="read:notes"),
        },
        "/audios": {
            "get": op("List audio recordings", "Audio", {**ok("Audios", list_of("audio")), **problems(400)},
                       scope="read:notes", parameters=[*collection_parameters(specs["/audios"]), *expand]),
        },
        "/audios/{uuid}": {
            "parameters": [uuid_path],
            "get": op("Read an audio recording (a note's audio link)", "Audio",
                       {**ok("The audio", ref("audio")), **problems(400, 404)}, scope="read:notes", parameters=expand),
        },
        "/webhooks": {
            "get": op("List the organization's webhooks", "Webhook",
                       {**ok("Webhooks", {"type": "array", "items": ref("webhook-resource")}), **problems(400)},
                       scope="organization", parameters=collection_parameters(specs["/webhooks"])),
            "post": op("Register a webhook", "Webhook",
                        {"201": {**ok("The webhook, with its uuid", ref("webhook-resource"), "201")["201"],
                                 "links": WEBHOOK_LINKS},
                         **problems(400, 413, 415, 422)},
                        scope="organization", requestBody=request_body(ref("webhook"))),
        },
        "/webhooks/{uuid}": webhook_item,
    }


def _xml_error(description: str, **headers: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/xml": {"schema": {"type": "string"}}},
    }
    if headers:
        answer["headers"] = headers
    return answer


def _header(description: str, required: bool = True) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": {"type": "string"}}


def files_paths(settings: Settings) -> dict[str, Any]:
    """The files origin, a server of its own (path-level ``servers``): pre-signed S3 GET links to the PDFs."""

    def amz(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
        return {**parameter(name, schema=schema, description=description), "required": True}

    pdf = {"application/pdf": {"schema": {"type": "string", "contentMediaType": "application/pdf"}}}
    object_headers = {
        "ETag": _header("MD5 of the object, quoted"),
        "Content-Length": _header("Bytes of this answer's body (of the range for a 206)"),
        "Accept-Ranges": _header("bytes"),
        "Last-Modified": _header("When the PDF was stored (HTTP date)"),
    }
    responses = {
        "200": {"description": "The PDF", "content": pdf, "headers": object_headers},
        "206": {
            "description": "The bytes a Range header asked for",
            "content": pdf,
            "headers": {**object_headers, "Content-Range": _header("bytes first-last/size")},
        },
        "400": _xml_error(
            "AuthorizationQueryParametersError (an X-Amz-* parameter missing or malformed), or "
            "InvalidArgument (an Authorization header as well as the query signature)"
        ),
        "403": _xml_error("AccessDenied (expired: Request has expired), SignatureDoesNotMatch, InvalidAccessKeyId"),
        "404": _xml_error("NoSuchKey, or NoSuchBucket"),
        "405": _xml_error("MethodNotAllowed", Allow=_header("GET, HEAD")),
        "416": _xml_error("InvalidRange", **{"Content-Range": _header("bytes */size")}),
    }
    parameters = [
        parameter("document_uuid", "path", UUID),
        parameter("file_name", "path"),
        amz("X-Amz-Algorithm", {"type": "string", "enum": [ALGORITHM]}, "SigV4 query signing"),
        amz(
            "X-Amz-Credential",
            {"type": "string", "pattern": f"^[^/]+/{BASIC_DAY}/[a-z0-9-]+/s3/aws4_request$"},
            "<access key id>/<yyyymmdd>/<region>/s3/aws4_request",
        ),
        amz("X-Amz-Date", {"type": "string", "pattern": AMZ_DATE_PATTERN}, "Signing time (mock clock)"),
        amz("X-Amz-Expires", {"type": "integer", "minimum": 0, "maximum": MAX_EXPIRES}, "Seconds of validity"),
        amz("X-Amz-SignedHeaders", {"type": "string"}, "host"),
        amz("X-Amz-Signature", {"type": "string", "pattern": "^[0-9a-f]{64}$"}, "HMAC-SHA256, hex"),
        parameter("Range", "header", description="bytes=first-last, bytes=first- or bytes=-suffix"),
    ]

    def operation(summary: str) -> dict[str, Any]:
        return op(summary, "File", responses, parameters=parameters)

    return {
        f"/{settings.files_bucket}/{{document_uuid}}/{{file_name}}": {
            "servers": [{"url": settings.files_base_url, "description": "The files origin (S3-style object storage)"}],
            "get": operation("Download a PDF through its pre-signed link (no bearer token: S3 refuses a second auth)"),
            "head": operation("The PDF's headers through a link pre-signed for HEAD (a GET link answers 403)"),
        },
    }
