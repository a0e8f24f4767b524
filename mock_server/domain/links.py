"""Pre-signed PDF links: S3 GET URLs, SigV4 query-signed, path-style on the files origin (no HTTP here).

Askara's guide only says the PDF URL is "pre-signed and valid for 1 hour"; Askara stores files on
AWS S3 (``/work/shared/askara-api.md`` section 0b), so a link is what an S3 presigner makes:
``{files_base_url}/{files_bucket}/{document uuid}/{file name}?X-Amz-Algorithm=...&X-Amz-Signature=...``,
signed with the mock's access key (:mod:`mock_server.core.secrets`) at a second of the MOCK
clock. ``X-Amz-Date + X-Amz-Expires`` is judged on that clock, so ``clock.advance(3601)`` turns
every link already handed out into a 403. The files origin (:mod:`mock_server.files.origin`)
verifies and serves them; :mod:`mock_server.core.sigv4` does the signing itself.
"""

from __future__ import annotations

import functools
import math
from urllib.parse import urlsplit

from mock_server.core.context import MockContext
from mock_server.core.sigv4 import Credentials, presign, uri_encode

URL_CACHE_LIMIT = 4096


def object_key(document_uuid: str, file_name: str) -> str:
    return f"{document_uuid}/{file_name}"


def object_path(ctx: MockContext, document_uuid: str, file_name: str) -> str:
    """The decoded path-style request path of a document's PDF: ``/{bucket}/{key}``."""
    return f"/{ctx.settings.files_bucket}/{object_key(document_uuid, file_name)}"


def credentials(ctx: MockContext) -> Credentials:
    return Credentials(ctx.s3_access_key_id, ctx.url_signing_secret, ctx.settings.files_region)


@functools.lru_cache(maxsize=16)
def host_of(base_url: str) -> str:
    """The Host header a client sends for ``base_url``: lower case, no userinfo, no default port (botocore's rule)."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port != {"http": 80, "https": 443}.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


def signing_second(ctx: MockContext, expires_at: float) -> int:
    """The ``X-Amz-Date`` of a link valid until ``expires_at``: whole seconds, never ahead of the clock."""
    return math.floor(expires_at - ctx.settings.pdf_url_ttl)


def signed_pdf_url(ctx: MockContext, document_uuid: str, file_name: str, expires_at: float) -> str:
    """An absolute link to the PDF, valid ``pdf_url_ttl`` seconds from its signing second (``expires_at - ttl``).

    Every read re-signs, but a link is a pure function of (secret, base URL, document, file,
    signing second), so reads within the same second reuse it: signing 20 links was half of a
    ``GET /documents`` (bench/README.md). Same bytes either way.
    """
    signed_at = signing_second(ctx, expires_at)
    cache: dict[tuple[str, str, int], str] = ctx.caches.signed_urls
    key = (document_uuid, file_name, signed_at)
    url = cache.get(key)
    if url is None:
        if len(cache) >= URL_CACHE_LIMIT:
            cache.clear()
        base = ctx.settings.files_base_url
        path = object_path(ctx, document_uuid, file_name)
        query = presign(
            credentials(ctx),
            method="GET",
            host=host_of(base),
            path=path,
            signed_at=signed_at,
            expires=ctx.settings.pdf_url_ttl,
        )
        url = cache[key] = f"{base}{uri_encode(path, keep_slash=True)}?{query}"
    return url
