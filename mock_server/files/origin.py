"""The files origin: serves the PDF a pre-signed link points to, answering as object storage does.

Askara's guide only says the PDF URL is "pre-signed and valid for 1 hour". Integrations meet
such links on S3-compatible storage, so the mock answers the way S3 does: the link carries its
expiry and an HMAC over path and expiry, needs no bearer token, and a stale or tampered link
gets a 403 with an XML ``<Error>`` body, never a JSON problem. Expiry is judged on the mock
clock, so ``clock.advance(3601)`` turns every link already handed out into a 403.
"""

from __future__ import annotations

import hashlib
import inspect
import uuid
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from mock_server.core.context import MockContext
from mock_server.domain.links import PATH_PREFIX, link_status
from mock_server.domain.pdf import render_document_pdf

XML = "application/xml"
_MESSAGES = {
    "AccessDenied": "Request has expired",
    "SignatureDoesNotMatch": (
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method."
    ),
    "NoSuchKey": "The specified key does not exist.",
    "InternalError": "We encountered an internal error. Please try again.",
    "SlowDown": "Please reduce your request rate.",
}


def routes() -> list[BaseRoute]:
    return [Route(PATH_PREFIX + "/{document_uuid}/{file_name}", download, methods=["GET"])]


async def download(request: Request) -> Response:
    """Serve the PDF of a pre-signed link; no bearer token is needed (or looked at)."""
    ctx: MockContext = request.app.state.mock
    document_uuid = request.path_params["document_uuid"]
    note = request.scope.setdefault("askara.note", {})
    note.update({"document_uuid": document_uuid, "download_bytes": 0, "download_complete": False})
    path = request.url.path
    expires = request.query_params.get("expires")
    status = link_status(ctx, path, expires, request.query_params.get("signature"))
    if status != "ok":
        note["download_error"] = status
        extra = None
        if status == "AccessDenied" and expires:
            extra = {"Expires": _amz_time(int(expires)), "ServerTime": _amz_time(ctx.clock.now())}
        return s3_error(403, status, resource=path, extra=extra)
    doc = ctx.store.documents.get(document_uuid)
    if doc is None or doc.get("pdf", {}).get("fileName") != request.path_params["file_name"]:
        note["download_error"] = "NoSuchKey"
        return s3_error(404, "NoSuchKey", resource=path, extra={"Key": path.removeprefix("/")})
    body = render_document_pdf(ctx, doc)
    outcome = await _fault_outcome(ctx, document_uuid)
    if outcome in ("error", "error_503"):
        note["download_error"] = "fault"
        note["fault"] = outcome
        if outcome == "error_503":
            return s3_error(503, "SlowDown", resource=path)
        return s3_error(500, "InternalError", resource=path)
    headers = {
        "Content-Disposition": f'attachment; filename="{doc["pdf"]["fileName"]}"',
        "ETag": '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"',
        "Accept-Ranges": "none",
    }
    if outcome == "truncate":
        note.update({"fault": "truncate", "download_bytes": len(body) // 2, "download_complete": False})
        return TruncatedResponse(body, media_type="application/pdf", headers=headers)
    note.update({"download_bytes": len(body), "download_complete": True})
    return Response(body, media_type="application/pdf", headers=headers)


async def _fault_outcome(ctx: MockContext, document_uuid: str) -> str:
    """What the injected download fault (if any) wants for this download: ok, error or truncate."""
    result: Any = ctx.download_fault(document_uuid)
    if inspect.isawaitable(result):
        result = await result
    return str(result or "ok")


class TruncatedResponse(Response):
    """Announces the full Content-Length, sends half the bytes, and stops: a connection cut mid-body.

    The final ``more_body: False`` message is never sent, so the server closes the connection
    and the client's read fails (or, in process, comes back short).
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body[: len(self.body) // 2], "more_body": True})


def s3_error(status: int, code: str, *, resource: str, extra: dict[str, str] | None = None) -> Response:
    """An S3-style XML error document."""
    parts = [f"<Code>{code}</Code>", f"<Message>{escape(_MESSAGES[code])}</Message>"]
    for name, value in (extra or {}).items():
        parts.append(f"<{name}>{escape(value)}</{name}>")
    request_id = uuid.uuid4().hex[:16].upper()
    parts += [f"<Resource>{escape(resource)}</Resource>", f"<RequestId>{request_id}</RequestId>"]
    xml = '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' + "".join(parts) + "</Error>"
    return Response(xml.encode(), status_code=status, media_type=XML)


def _amz_time(epoch: float) -> str:
    try:
        return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError, OSError):
        return str(int(epoch))
