"""AWS Signature Version 4 in its query-string form (S3 pre-signed URLs): signing and judging, no HTTP.

Written from AWS's "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)"
and checked against botocore's presigner (``tests/test_sigv4.py``):

* canonical request = method, URI-encoded path (S3: the path is not normalised, each byte
  outside ``A-Za-z0-9-_.~`` and ``/`` is %XX-encoded once), the canonical query (every parameter
  but ``X-Amz-Signature``, names and values URI-encoded, sorted by name then value), the signed
  headers as ``name:trimmed value`` lines, the signed header names, and ``UNSIGNED-PAYLOAD``;
* string to sign = ``AWS4-HMAC-SHA256``, ``X-Amz-Date``, the credential scope
  (``yyyymmdd/region/s3/aws4_request``) and the SHA-256 of the canonical request;
* signing key = HMAC-SHA256 chain ``"AWS4" + secret`` -> date -> region -> service -> ``aws4_request``.

:func:`judge` answers a request the way S3 does (same error codes and messages, same order
of checks as far as S3's behaviour is known), on the clock it is given.
"""

from __future__ import annotations

import calendar
import functools
import hashlib
import hmac
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from mock_server.core.timefmt import BASIC_DAY

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
SERVICE = "s3"
TERMINATOR = "aws4_request"
MAX_EXPIRES = 604_800
"""S3 refuses a pre-signed URL valid for more than 7 days."""
MAX_FUTURE_SKEW = 900
"""S3 refuses an ``X-Amz-Date`` more than 15 minutes ahead of its clock ("Request is not valid yet")."""
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
QUERY_AUTH_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)
AMZ_DATE_PATTERN = f"^{BASIC_DAY}T(?:[01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]Z$"
"""``X-Amz-Date``: a real day and time (``time.strptime`` alone would take a 60th second)."""
_AMZ_DATE = re.compile(AMZ_DATE_PATTERN)
_UNRESERVED = "-_.~"

MISSING_PARAMS = (
    "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, "
    "X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
)
TWO_MECHANISMS = (
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string "
    "parameter or the Authorization header should be specified"
)
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your key and signing method."
)


@dataclass(frozen=True)
class Credentials:
    """One access key of the bucket's owner, and the region requests must be scoped to."""

    key_id: str
    secret: str
    region: str


@dataclass(frozen=True)
class SignedRequest:
    """What judging needs of an HTTP request: method, decoded path, decoded query pairs, headers."""

    method: str
    path: str
    query: Sequence[tuple[str, str]]
    headers: Mapping[str, Sequence[str]]
    """Lower-case header name -> every value received under it."""

    def param(self, name: str) -> str | None:
        return next((value for key, value in self.query if key == name), None)


@dataclass(frozen=True)
class Refusal:
    """S3's answer to a request it does not authenticate: status, ``<Code>``, ``<Message>``, extra elements."""

    status: int
    code: str
    message: str
    extra: tuple[tuple[str, str], ...] = field(default=())


@dataclass(frozen=True)
class Accepted:
    """A request whose signature holds, with the key that signed it."""

    key_id: str
    signed_at: int
    expires: int


# -- signing --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8192)
def uri_encode(value: str, *, keep_slash: bool = False) -> str:
    """SigV4's URI encoding: UTF-8 bytes, everything but ``A-Za-z0-9-_.~`` (and ``/`` in paths) as %XX.

    Cached: a list page signs 30 links whose parameters are the same but for the path, and
    ``quote`` was half of a page's time (17 calls per link)."""
    return quote(value, safe=_UNRESERVED + ("/" if keep_slash else ""))


def amz_date(epoch: int) -> str:
    return time.strftime(AMZ_DATE_FORMAT, time.gmtime(epoch))


def parse_amz_date(text: str) -> int | None:
    """Epoch seconds of an ``X-Amz-Date`` (``yyyymmddThhmmssZ``), or None when it is not one."""
    if not _AMZ_DATE.fullmatch(text):
        return None
    try:
        return calendar.timegm(time.strptime(text, AMZ_DATE_FORMAT))
    except ValueError:
        return None


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    encoded = sorted((uri_encode(k), uri_encode(v)) for k, v in pairs if k != "X-Amz-Signature")
    return "&".join(f"{k}={v}" for k, v in encoded)


def canonical_request(
    method: str, path: str, query: Iterable[tuple[str, str]], headers: Mapping[str, Sequence[str]], signed: list[str]
) -> str:
    lines = [f"{name}:{','.join(' '.join(v.split()) for v in headers.get(name, ()))}" for name in signed]
    return "\n".join(
        [method, uri_encode(path, keep_slash=True), canonical_query(query), *lines, "", ";".join(signed),
         UNSIGNED_PAYLOAD]
    )  # fmt: skip


def scope(datestamp: str, region: str) -> str:
    return f"{datestamp}/{region}/{SERVICE}/{TERMINATOR}"


def string_to_sign(date: str, credential_scope: str, request: str) -> str:
    return "\n".join([ALGORITHM, date, credential_scope, hashlib.sha256(request.encode()).hexdigest()])


@functools.lru_cache(maxsize=64)
def signing_key(secret: str, datestamp: str, region: str) -> bytes:
    """Derived once per (secret, day, region): four HMACs that every link of the day shares."""
    key = hmac.digest(("AWS4" + secret).encode(), datestamp.encode(), "sha256")
    for part in (region, SERVICE, TERMINATOR):
        key = hmac.digest(key, part.encode(), "sha256")
    return key


def signature(secret: str, datestamp: str, region: str, to_sign: str) -> str:
    return hmac.digest(signing_key(secret, datestamp, region), to_sign.encode(), "sha256").hex()


def presign(credentials: Credentials, *, method: str, host: str, path: str, signed_at: int, expires: int) -> str:
    """The query string of a pre-signed request (auth parameters in botocore's order, signature last).

    ``host`` is the Host header the client will send (no default port); ``path`` is decoded.
    """
    date = amz_date(signed_at)
    credential_scope = scope(date[:8], credentials.region)
    params = [
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", f"{credentials.key_id}/{credential_scope}"),
        ("X-Amz-Date", date),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    request = canonical_request(method, path, params, {"host": [host]}, ["host"])
    signed = signature(
        credentials.secret, date[:8], credentials.region, string_to_sign(date, credential_scope, request)
    )
    return "&".join(f"{k}={uri_encode(v)}" for k, v in params) + f"&X-Amz-Signature={signed}"


def parse_query(raw: str) -> list[tuple[str, str]]:
    """Decoded (name, value) pairs in the order received; ``+`` stays a plus, as S3 reads it."""
    pairs = []
    for item in raw.split("&"):
        if item:
            name, _, value = item.partition("=")
            pairs.append((unquote(name), unquote(value)))
    return pairs


# -- judging --------------------------------------------------------------------------------------


def _query_error(message: str, *extra: tuple[str, str]) -> Refusal:
    return Refusal(400, "AuthorizationQueryParametersError", message, extra)


def judge(
    request: SignedRequest, keys: Mapping[str, Credentials], now: float, *, allow_anonymous: bool = False
) -> Refusal | Accepted | None:
    """S3's verdict on a request's authentication: a :class:`Refusal`, :class:`Accepted`, or None (anonymous).

    ``keys`` maps access key ids to their credentials; ``now`` is the server's clock (epoch seconds).
    """
    authorization = request.headers.get("authorization")
    present = [name for name in QUERY_AUTH_PARAMS if request.param(name) is not None]
    value = authorization[0] if authorization else ""
    if authorization and present:
        # S3 echoes the header (token included) back to the client that sent it.
        return Refusal(400, "InvalidArgument", TWO_MECHANISMS, (("ArgumentName", "Authorization"),
                                                                 ("ArgumentValue", value)))  # fmt: skip
    if authorization:
        if value.startswith(("AWS4-HMAC-SHA256 ", "AWS ")):
            return Refusal(403, "AccessDenied", "Access Denied")  # header signing: not offered by this bucket
        return Refusal(400, "InvalidArgument", "Unsupported Authorization Type",
                       (("ArgumentName", "Authorization"), ("ArgumentValue", value)))  # fmt: skip
    if not present:
        return None if allow_anonymous else Refusal(403, "AccessDenied", "Access Denied")
    if len(present) < len(QUERY_AUTH_PARAMS):
        return _query_error(MISSING_PARAMS)
    return _judge_query(request, keys, now)


def _judge_query(request: SignedRequest, keys: Mapping[str, Credentials], now: float) -> Refusal | Accepted:
    def param(name: str) -> str:
        return request.param(name) or ""

    if param("X-Amz-Algorithm") != ALGORITHM:
        return _query_error(f'X-Amz-Algorithm only supports "{ALGORITHM}"')
    credential = param("X-Amz-Credential")
    parts = credential.split("/")
    if len(parts) != 5 or not all(parts):
        return _query_error(
            "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
            'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
        )
    key_id, datestamp, region, service, terminator = parts
    date = param("X-Amz-Date")
    signed_at = parse_amz_date(date)
    if signed_at is None:
        return _query_error("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
    if datestamp != date[:8]:
        return _query_error(f'Invalid credential date "{datestamp}". This date is not the same as X-Amz-Date: '
                            f'"{date[:8]}".')  # fmt: skip
    if service != SERVICE:
        return _query_error(f'Error parsing the X-Amz-Credential parameter; incorrect service "{service}". '
                            f'This endpoint belongs to "{SERVICE}".')  # fmt: skip
    if terminator != TERMINATOR:
        return _query_error(f'Error parsing the X-Amz-Credential parameter; incorrect terminal "{terminator}". '
                            f'This endpoint uses "{TERMINATOR}".')  # fmt: skip
    expires_text = param("X-Amz-Expires")
    if not expires_text.lstrip("-").isdigit() or not expires_text.isascii() or len(expires_text) > 12:
        return _query_error("X-Amz-Expires should be a number")
    expires = int(expires_text)
    if expires < 0:
        return _query_error("X-Amz-Expires must be non-negative")
    if expires > MAX_EXPIRES:
        return _query_error(
            "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less "
            f"than {MAX_EXPIRES} seconds"
        )
    credentials = keys.get(key_id)
    expected_region = credentials.region if credentials else next(iter(keys.values())).region
    if region != expected_region:
        return _query_error(
            f"Error parsing the X-Amz-Credential parameter; the region '{region}' is wrong; "
            f"expecting '{expected_region}'",
            ("Region", expected_region),
        )
    if credentials is None:
        return Refusal(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.",
                       (("AWSAccessKeyId", key_id),))  # fmt: skip
    signed_headers = param("X-Amz-SignedHeaders").split(";")
    unsigned = sorted(n for n in request.headers if n not in signed_headers and (n == "host" or n.startswith("x-amz-")))
    if unsigned:
        return Refusal(403, "AccessDenied", "There were headers present in the request which were not signed",
                       (("HeadersNotSigned", ", ".join(unsigned)),))  # fmt: skip
    if signed_at - now > MAX_FUTURE_SKEW:
        return Refusal(403, "AccessDenied", "Request is not valid yet")
    if now > signed_at + expires:
        return Refusal(403, "AccessDenied", "Request has expired", (
            ("X-Amz-Expires", str(expires)), ("Expires", iso_time(signed_at + expires)), ("ServerTime", iso_time(now))
        ))  # fmt: skip
    request_text = canonical_request(request.method, request.path, request.query, request.headers, signed_headers)
    to_sign = string_to_sign(date, "/".join(parts[1:]), request_text)
    expected = signature(credentials.secret, datestamp, region, to_sign)
    provided = param("X-Amz-Signature")
    if not hmac.compare_digest(expected.encode(), provided.encode("utf-8", "replace")):
        return Refusal(403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH, (
            ("AWSAccessKeyId", key_id), ("StringToSign", to_sign), ("SignatureProvided", provided),
            ("CanonicalRequest", request_text),
        ))  # fmt: skip
    return Accepted(key_id, signed_at, expires)


def iso_time(epoch: float) -> str:
    """``2026-05-28T20:26:40Z``, the form of S3's ``<Expires>`` and ``<ServerTime>``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))
