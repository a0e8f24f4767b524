"""Request parsing and response rendering shared by every endpoint.

Bodies are read with a size cap and parsed strictly: malformed JSON is a 400 naming the
position, a body of the wrong type a 422 naming the field, as API Platform answers.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from mock_server.core.errors import (
    BadRequest,
    PayloadTooLarge,
    ProblemError,
    UnsupportedMediaType,
    ValidationFailed,
    Violation,
)
from mock_server.web.negotiation import JSON, JSONLD, PROBLEM, negotiate
from mock_server.web.validation import validate

MAX_JSON_DEPTH = 100
"""Nesting a JSON body may have (docs/assumptions.md#json-depth): what the mock reads it must be able to write
back (orjson writes at most 254 levels; records and envelopes wrap a body in a few more)."""
MERGE_PATCH = "application/merge-patch+json"
JSON_BODY_TYPES = (JSON, JSONLD)
"""What POST and PUT bodies may be; PATCH takes only ``MERGE_PATCH`` (API Platform 3+ defaults)."""


def dumps(data: Any) -> bytes:
    return orjson.dumps(data)


def json_response(
    data: Any, status: int = 200, *, headers: dict[str, str] | None = None, media_type: str = JSON
) -> Response:
    return Response(dumps(data), status_code=status, headers=headers, media_type=media_type)


def wants_jsonld(request: Request) -> bool:
    """The client's ``Accept`` prefers JSON-LD (an unacceptable one was refused 406 before the handler)."""
    return negotiate(request.headers.get("accept", "")) == JSONLD


def problem_response(request: Request | None, error: ProblemError) -> Response:
    """Render any ProblemError as problem+json, or as a JSON-LD error for ld+json clients."""
    body: dict[str, Any] = {
        "type": error.type_uri if error.type_uri != "about:blank" else f"/errors/{error.status}",
        "title": error.title,
        "detail": error.detail,
        "status": error.status,
    }
    if error.violations:
        body["violations"] = [v.to_json() for v in error.violations]
    media_type = PROBLEM
    if request is not None and wants_jsonld(request):
        body = {"@context": "/contexts/Error", "@id": f"/errors/{error.status}", "@type": "Error", **body}
        if error.violations:
            body["@context"] = "/contexts/ConstraintViolation"
            body["@type"] = "ConstraintViolation"
        media_type = JSONLD
    if request is not None:
        body["instance"] = request.url.path
        # The journal keeps what the mock said, so the harness can quote it (which parameter, which rule).
        request.scope.setdefault("askara.note", {})["problem"] = error.detail[:300]
    return json_response(body, error.status, headers=error.headers, media_type=media_type)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is {declared} bytes; the limit is {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, schema: str | None = None, *, limit: int | None = None) -> Any:
    """Parse a JSON body and, when ``schema`` names a file of ``schemas/``, validate it."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    accepted = (MERGE_PATCH,) if request.method == "PATCH" else JSON_BODY_TYPES
    if content_type not in accepted:
        hint = " (application/merge-patch+json is for PATCH only)" if content_type == MERGE_PATCH else ""
        raise UnsupportedMediaType(
            f'The content-type "{content_type or "(none)"}" is not supported{hint}. '
            f"Supported MIME types are \"{', '.join(accepted)}\"."
        )
    if limit is None:
        limit = request.app.state.mock.settings.max_body_bytes
    raw = await read_body(request, limit)
    if not raw.strip():
        raise BadRequest("Syntax error: the request body is empty; a JSON document is expected.")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"Syntax error: the request body is not valid JSON ({exc}).") from None
    if too_deep(raw, data):
        raise BadRequest(f"Syntax error: the request body nests arrays and objects deeper than {MAX_JSON_DEPTH} "
                         "levels (the maximum depth).",
                         violations=[Violation("", f"Nesting deeper than {MAX_JSON_DEPTH} levels.", "max_depth")])
    if schema is not None:
        violations = validate(schema, data)
        if violations:
            raise ValidationFailed(_summary(violations), violations=violations)
    return data


def too_deep(raw: bytes, data: Any) -> bool:
    """``data`` (parsed from ``raw``) nests containers deeper than :data:`MAX_JSON_DEPTH`."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:  # the common case: no walk at all
        return False
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        if not isinstance(value, dict | list):
            continue
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _summary(violations: list[Violation]) -> str:
    return "\n".join(f"{v.property_path or '(body)'}: {v.message}" for v in violations)
