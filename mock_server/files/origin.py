"""The files origin: answers pre-signed S3 GET links for the documents' PDFs, as S3 does.

It listens on a port of its own (``files_port``; :mod:`mock_server.web.origins` tells which
origin a request reached) and serves only the bucket's objects: every API path is a 404 there,
and the PDF is no route of the API. A request must carry a valid SigV4 query signature
(:mod:`mock_server.core.sigv4`, judged on the mock clock) and no ``Authorization`` header:
S3 refuses two auth mechanisms at once, which is how an integration whose HTTP session sends
its bearer token everywhere fails in production. Answers are S3's: XML ``<Error>`` documents,
``ETag``, ``Last-Modified``, ``Accept-Ranges: bytes`` and ``Range`` requests (206 / 416).
Download faults (``ctx.download_fault``) act here; the middleware journals every request as a
``download`` and never rate-limits one.
"""

from __future__ import annotations

import email.utils
import hashlib
import inspect
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.core.assumptions import rely
from mock_server.core.context import MockContext
from mock_server.core.sigv4 import Refusal, SignedRequest, judge, parse_query
from mock_server.core.store import Record
from mock_server.domain.links import credentials
from mock_server.domain.pdf import render_document_pdf
from mock_server.files.answers import TruncatedResponse, byte_range, request_headers, s3_error
from mock_server.web.origins import reached_files

ALLOWED_METHODS = ("GET", "HEAD")
_FAULT_ERRORS = {
    "error": (500, "InternalError", "We encountered an internal error. Please try again."),
    "error_503": (503, "SlowDown", "Please reduce your request rate."),
}


class FilesOrigin:
    """ASGI layer: a request that reached the files origin is answered here; any other goes on to the API."""

    def __init__(self, app: ASGIApp, context: MockContext) -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not reached_files(scope, self.context.settings):
            await self.app(scope, receive, send)
            return
        response = await serve(self.context, scope)
        await response(scope, receive, send)


def _headers(scope: Scope) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    return headers


async def serve(ctx: MockContext, scope: Scope) -> Response:
    """One request to the files origin, answered as S3 answers a GET/HEAD Object through a pre-signed URL."""
    note: dict[str, Any] = scope.setdefault("askara.note", {})
    headers = _headers(scope)
    method: str = scope["method"]
    head = method == "HEAD"
    if "authorization" in headers:
        # The scheme only: the journal says a token was sent, never which.
        note["authorization_header"] = headers["authorization"][0].partition(" ")[0][:32]

    def refuse(status: int, code: str, message: str, *extra: tuple[str, str], **options: Any) -> Response:
        note["download_error"] = code
        note.setdefault("download_bytes", 0)
        note.setdefault("download_complete", False)
        return s3_error(status, code, message, extra, head=head, **options)

    path: str = scope["path"]
    bucket, _, key = path.lstrip("/").partition("/")
    if bucket != ctx.settings.files_bucket:
        if not bucket:
            return refuse(403, "AccessDenied", "Access Denied")
        return refuse(404, "NoSuchBucket", "The specified bucket does not exist", ("BucketName", bucket))
    rely(scope, "files-bucket")
    rely(scope, "files-region")
    rely(scope, "files-path-style")
    if method not in ALLOWED_METHODS:
        return refuse(405, "MethodNotAllowed", "The specified method is not allowed against this resource.",
                      ("Method", method), ("ResourceType", "OBJECT" if key else "BUCKET"),
                      headers={"Allow": ", ".join(ALLOWED_METHODS)})  # fmt: skip
    document_uuid, _, file_name = key.partition("/")
    if document_uuid:
        note["document_uuid"] = document_uuid
    note.update({"download_bytes": 0, "download_complete": False})
    query = parse_query(scope.get("query_string", b"").decode("latin-1"))
    creds = credentials(ctx)
    verdict = judge(SignedRequest(method, path, query, headers), {creds.key_id: creds}, ctx.clock.now())
    if isinstance(verdict, Refusal) or verdict is None:
        refusal = verdict or Refusal(403, "AccessDenied", "Access Denied")
        return refuse(refusal.status, refusal.code, refusal.message, *refusal.extra)
    if not key:
        return refuse(403, "AccessDenied", "Access Denied")  # listing the bucket is not granted to this key
    doc = ctx.store.documents.get(document_uuid)
    if doc is None or not file_name or doc.get("pdf", {}).get("fileName") != file_name:
        return refuse(404, "NoSuchKey", "The specified key does not exist.", ("Key", key))
    return await _object(ctx, scope, doc, headers, note, refuse)


async def _object(
    ctx: MockContext, scope: Scope, doc: Record, headers: dict[str, list[str]], note: dict[str, Any], refuse: Any
) -> Response:
    rely(scope, "files-object-metadata")
    body = render_document_pdf(ctx, doc)
    outcome = await _fault_outcome(ctx, doc["uuid"])
    if outcome in _FAULT_ERRORS:
        note["fault"] = outcome
        return refuse(*_FAULT_ERRORS[outcome])
    size = len(body)
    answer = {
        **request_headers(),
        "Content-Type": "application/pdf",
        "ETag": '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"',
        "Last-Modified": email.utils.formatdate(_modified(doc), usegmt=True),
        "Accept-Ranges": "bytes",
    }
    range_header = headers["range"][0] if headers.get("range") else None
    wanted = byte_range(range_header, size)
    if wanted == "unsatisfiable":
        note["download_range"] = range_header
        return refuse(416, "InvalidRange", "The requested range is not satisfiable",
                      ("RangeRequested", str(range_header)), ("ActualObjectSize", str(size)),
                      headers={"Content-Range": f"bytes */{size}"})  # fmt: skip
    status = 200
    if isinstance(wanted, tuple):
        first, last = wanted
        status, body = 206, body[first : last + 1]
        answer["Content-Range"] = f"bytes {first}-{last}/{size}"
        note["download_range"] = f"{first}-{last}"
    answer["Content-Length"] = str(len(body))
    if scope["method"] == "HEAD":
        note.update({"download_bytes": 0, "download_complete": False})
        return Response(b"", status_code=status, headers=answer)
    if outcome == "truncate":
        note.update({"fault": "truncate", "download_bytes": len(body) // 2, "download_complete": False})
        return TruncatedResponse(body, status_code=status, headers=answer)
    note.update({"download_bytes": len(body), "download_complete": len(body) == size})
    return Response(body, status_code=status, headers=answer)


def _modified(doc: Record) -> float:
    """When the PDF was stored: at validation (the letter is final), else when the record last changed."""
    return float(doc.get("validatedAt") or doc.get("updatedAt") or doc.get("createdAt") or 0)


async def _fault_outcome(ctx: MockContext, document_uuid: str) -> str:
    """What the injected download fault (if any) wants for this download: ok, error, error_503 or truncate."""
    result: Any = ctx.download_fault(document_uuid)
    if inspect.isawaitable(result):
        result = await result
    return str(result or "ok")
