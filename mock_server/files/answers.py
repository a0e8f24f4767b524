"""How the files origin answers, in S3's own forms: XML ``<Error>`` documents, byte ranges, cut bodies."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable
from contextvars import ContextVar
from html import escape as _html_escape

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

XML = "application/xml"
INCOMPLETE_RESPONSE = "ASGI callable returned without completing response"
"""What uvicorn logs (as an error) when an app returns mid-body: what a truncate fault does on purpose."""
_CUT_ON_PURPOSE: ContextVar[bool] = ContextVar("askara_cut_on_purpose", default=False)
_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)")


def request_headers() -> dict[str, str]:
    """The headers S3 puts on every answer: a request id pair and its server name."""
    request_id = secrets.token_hex(8).upper()
    return {"x-amz-request-id": request_id, "x-amz-id-2": secrets.token_urlsafe(48), "Server": "AmazonS3"}


def _escape(text: str) -> str:
    """XML text: ``&``, ``<`` and ``>`` escaped, as ``xml.sax.saxutils.escape`` does (that module costs
    ~3 ms of ``serve``'s start-up; ``html`` is imported by starlette already)."""
    return _html_escape(text, quote=False)


def s3_error(
    status: int,
    code: str,
    message: str,
    extra: Iterable[tuple[str, str]] = (),
    *,
    head: bool = False,
    headers: dict[str, str] | None = None,
) -> Response:
    """An S3 error document (``<Error><Code>…``); a HEAD answer carries the status and headers only, as S3's do."""
    all_headers = {**request_headers(), **(headers or {})}
    parts = [f"<Code>{_escape(code)}</Code>", f"<Message>{_escape(message)}</Message>"]
    parts += [f"<{name}>{_escape(value)}</{name}>" for name, value in extra]
    parts += [
        f"<RequestId>{all_headers['x-amz-request-id']}</RequestId>",
        f"<HostId>{all_headers['x-amz-id-2']}</HostId>",
    ]
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error>' + "".join(parts) + "</Error>").encode()
    if head:
        all_headers["Content-Length"] = str(len(body))
        return Response(b"", status_code=status, media_type=XML, headers=all_headers)
    return Response(body, status_code=status, media_type=XML, headers=all_headers)


def byte_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """The inclusive (first, last) bytes a ``Range`` header asks of ``size`` bytes.

    None: serve the whole object (no header, or one S3 ignores: another unit, several ranges,
    a malformed or reversed range). ``"unsatisfiable"``: a 416 (the range starts past the end,
    or asks for the last 0 bytes).
    """
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first_text, last_text = (text if len(text) <= 18 else "9" * 19 for text in match.groups())
    if not first_text and not last_text:
        return None
    if not first_text:
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            return "unsatisfiable"
        return max(size - suffix, 0), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None
    last = int(last_text) if last_text else size - 1
    if first >= size:
        return "unsatisfiable"
    return first, min(last, size - 1)


class TruncatedResponse(Response):
    """Announces the full Content-Length, sends half the bytes, and stops: a connection cut mid-body.

    The final ``more_body: False`` message is never sent, so the server closes the connection
    and the client's read fails (or, in process, comes back short).
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        _CUT_ON_PURPOSE.set(True)  # uvicorn's request task: seen by its log call once this returns
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body[: len(self.body) // 2], "more_body": True})


class PurposefulCutFilter(logging.Filter):
    """Drops uvicorn's "returned without completing response" error for a body the truncate fault cut.

    uvicorn logs it from the request's own task right after the app returns, so the context variable
    :class:`TruncatedResponse` set is visible; the same message for any other cause still shows.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (_CUT_ON_PURPOSE.get() and str(record.msg).startswith(INCOMPLETE_RESPONSE))


def quiet_purposeful_cuts(logger: logging.Logger | None = None) -> None:
    """Install :class:`PurposefulCutFilter` on uvicorn's error logger, once."""
    logger = logger or logging.getLogger("uvicorn.error")
    if not any(isinstance(f, PurposefulCutFilter) for f in logger.filters):
        logger.addFilter(PurposefulCutFilter())
