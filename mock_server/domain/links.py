"""Pre-signed PDF links: how a link is made and how one is judged (no HTTP here).

Askara's guide only says the PDF URL is "pre-signed and valid for 1 hour". A link carries its
expiry and an HMAC over path and expiry; expiry is judged on the mock clock, so
``clock.advance(3601)`` turns every link already handed out into a 403. The files origin
(:mod:`mock_server.files.origin`) serves what a valid link points to.
"""

from __future__ import annotations

import hmac
import math
from urllib.parse import quote

from mock_server.core.context import MockContext

PATH_PREFIX = "/files/documents"


def pdf_path(document_uuid: str, file_name: str) -> str:
    """The (decoded) path a link points to; this exact string is what the signature covers."""
    return f"{PATH_PREFIX}/{document_uuid}/{file_name}"


def sign(ctx: MockContext, path: str, expires: int) -> str:
    message = f"{path}\n{expires}".encode()
    # One-shot HMAC (OpenSSL in one call): half the cost of hmac.new(...).hexdigest(), same digest.
    return hmac.digest(ctx.url_signing_secret.encode(), message, "sha256").hex()


def signed_pdf_url(ctx: MockContext, document_uuid: str, file_name: str, expires_at: float) -> str:
    """An absolute link to the PDF, valid until ``expires_at`` (mock epoch seconds, rounded up).

    Every read re-signs, but a link is a pure function of (secret, base URL, document, file,
    expiry second), so reads within the same second reuse it: signing 20 links was half of a
    ``GET /documents`` (bench/README.md). Same bytes either way.
    """
    expires = math.ceil(expires_at)
    cache: dict[tuple[str, str, int], str] = ctx.caches.signed_urls
    key = (document_uuid, file_name, expires)
    url = cache.get(key)
    if url is None:
        if len(cache) >= URL_CACHE_LIMIT:
            cache.clear()
        path = pdf_path(document_uuid, file_name)
        signature = sign(ctx, path, expires)
        url = cache[key] = f"{ctx.settings.base_url}{quote(path)}?expires={expires}&signature={signature}"
    return url


URL_CACHE_LIMIT = 4096


def link_status(ctx: MockContext, path: str, expires: str | None, signature: str | None) -> str:
    """``ok``, ``SignatureDoesNotMatch`` or ``AccessDenied`` (expired) for a link's parts.

    The signature is checked first: a link whose expiry was pushed forward by hand is a forged
    link (SignatureDoesNotMatch), not an expired one.
    """
    if not expires or not signature or not (expires.isascii() and expires.isdigit()) or len(expires) > 12:
        return "SignatureDoesNotMatch"
    expected = sign(ctx, path, int(expires))
    if not hmac.compare_digest(expected.encode(), signature.lower().encode("utf-8", "replace")):
        return "SignatureDoesNotMatch"
    if ctx.clock.now() >= int(expires):
        return "AccessDenied"
    return "ok"
