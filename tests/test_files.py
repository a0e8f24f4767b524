"""The files origin: PDFs behind SigV4 pre-signed S3 links, answering as S3 does.

In process, a request reaches the files origin by the port of its URL (``scope["server"]``), so
``client.get(doc["pdf"]["url"])`` downloads through the files origin and ``client.get("/documents")``
stays on the API (see mock_server/web/origins.py).
"""

from __future__ import annotations

import hashlib
import io
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pypdf
import pytest
from conftest import access_token, ctx_of, make_settings
from starlette.testclient import TestClient

from mock_server import create_app, domain
from mock_server.core.errors import ConfigError
from mock_server.core.settings import Settings
from mock_server.domain.links import signed_pdf_url
from mock_server.domain.pdf import render_document_pdf

FILES = "http://127.0.0.1:8766"


def _first_document(client: TestClient) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {access_token(client, 'read:documents')}"}
    return client.get("/documents", headers=headers).json()[0]  # type: ignore[no-any-return]


def _params(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def _with(url: str, **changes: str | None) -> str:
    """The link with query parameters changed (None drops one), re-encoded as a client would."""
    params = {**_params(url), **changes}
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return url.split("?")[0] + "?" + query


def _last_entry(client: TestClient) -> dict[str, Any]:
    return ctx_of(client).store.journal.values()[-1]  # type: ignore[no-any-return]


# -- the link and the download ---------------------------------------------------------------------


def test_link_is_a_path_style_sigv4_url_signed_at_the_mock_clock(client: TestClient) -> None:
    ctx = ctx_of(client)
    doc = _first_document(client)
    parts = urlsplit(doc["pdf"]["url"])
    assert f"{parts.scheme}://{parts.netloc}" == FILES == ctx.settings.files_base_url
    assert parts.path == f"/askara-documents/{doc['uuid']}/{doc['pdf']['fileName']}"
    assert list(_params(doc["pdf"]["url"])) == [
        "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
        "X-Amz-Signature",
    ]  # fmt: skip
    params = _params(doc["pdf"]["url"])
    assert params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert params["X-Amz-Credential"] == f"{ctx.s3_access_key_id}/20260528/eu-west-3/s3/aws4_request"
    assert params["X-Amz-Date"] == "20260528T202640Z"  # conftest's mock clock: 1_780_000_000
    assert params["X-Amz-Expires"] == "3600" and params["X-Amz-SignedHeaders"] == "host"
    assert len(params["X-Amz-Signature"]) == 64
    assert "%2F" in parts.query  # the credential's slashes are encoded, as botocore does


def test_download_is_a_real_pdf_with_s3_headers(client: TestClient) -> None:
    doc = _first_document(client)
    response = client.get(doc["pdf"]["url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["etag"] == '"' + hashlib.md5(response.content).hexdigest() + '"'
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["last-modified"].endswith(" GMT")
    assert response.headers["x-amz-request-id"] and "content-disposition" not in response.headers
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    assert doc["patient"]["lastName"].upper() in reader.pages[0].extract_text().upper()
    entry = _last_entry(client)
    assert entry["kind"] == "download" and entry["document_uuid"] == doc["uuid"]
    assert entry["download_bytes"] == len(response.content) and entry["download_complete"] is True
    assert "authorization_header" not in entry and "bucket" not in entry


def test_link_is_valid_an_hour_on_the_mock_clock(client: TestClient) -> None:
    doc = _first_document(client)
    ctx_of(client).clock.advance(3600)
    assert client.get(doc["pdf"]["url"]).status_code == 200
    ctx_of(client).clock.advance(1)
    expired = client.get(doc["pdf"]["url"])
    assert expired.status_code == 403
    assert expired.headers["content-type"].startswith("application/xml")
    assert "<Code>AccessDenied</Code>" in expired.text and "<Message>Request has expired</Message>" in expired.text
    assert "<Expires>2026-05-28T21:26:40Z</Expires>" in expired.text
    assert "<ServerTime>2026-05-28T21:26:41Z</ServerTime>" in expired.text
    entry = _last_entry(client)
    assert entry["download_complete"] is False and entry["download_error"] == "AccessDenied"
    assert entry["document_uuid"] == doc["uuid"]


def test_a_fresh_read_signs_at_the_new_second_and_reuses_within_one(client: TestClient) -> None:
    ctx = ctx_of(client)
    doc = ctx.store.documents.values()[0]
    first = domain.public_document(ctx, doc)["pdf"]["url"]
    assert domain.public_document(ctx, doc)["pdf"]["url"] is first  # the link cache
    ctx.clock.advance(1)
    later = domain.public_document(ctx, doc)["pdf"]["url"]
    assert _params(later)["X-Amz-Date"] == "20260528T202641Z" != _params(first)["X-Amz-Date"]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda url: url[:-1] + ("0" if url[-1] != "0" else "1"),
        lambda url: _with(url, **{"X-Amz-Expires": "7200"}),
        lambda url: _with(url, **{"X-Amz-Date": "20260528T202641Z"}),
        lambda url: _with(url, extra="1"),
        lambda url: url.replace(".pdf?", "x.pdf?"),
        lambda url: url.replace("/askara-documents/", "/askara-documents//"),
    ],
    ids=["signature", "expires", "date", "extra-param", "file-name", "double-slash"],
)
def test_tampered_link_is_403_signature_does_not_match(client: TestClient, tamper: Any) -> None:
    doc = _first_document(client)
    response = client.get(tamper(doc["pdf"]["url"]))
    assert response.status_code == 403, response.text
    assert "<Code>SignatureDoesNotMatch</Code>" in response.text
    assert "<CanonicalRequest>" in response.text and "UNSIGNED-PAYLOAD" in response.text


def test_the_host_header_is_signed(client: TestClient) -> None:
    url = _first_document(client)["pdf"]["url"]
    assert client.get(url, headers={"Host": "127.0.0.1:8766"}).status_code == 200
    moved = client.get(url, headers={"Host": "localhost:8766"})
    assert moved.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in moved.text


# -- S3's refusals, one row each -------------------------------------------------------------------

REFUSALS = [
    # id, change to the link's query, status, code, words of the message
    ("no-query", "drop-all", 403, "AccessDenied", "Access Denied"),
    ("no-signature", {"X-Amz-Signature": None}, 400, "AuthorizationQueryParametersError",
     "requires the X-Amz-Algorithm"),
    ("no-expires", {"X-Amz-Expires": None}, 400, "AuthorizationQueryParametersError", "X-Amz-Expires parameters"),
    ("algorithm", {"X-Amz-Algorithm": "AWS4-HMAC-SHA1"}, 400, "AuthorizationQueryParametersError",
     'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"'),
    ("credential", {"X-Amz-Credential": "AKIA/20260528"}, 400, "AuthorizationQueryParametersError",
     "the Credential is mal-formed"),
    ("date", {"X-Amz-Date": "2026-05-28T20:26:40Z"}, 400, "AuthorizationQueryParametersError",
     "ISO8601 Long Format"),
    ("expires-text", {"X-Amz-Expires": "an hour"}, 400, "AuthorizationQueryParametersError", "should be a number"),
    ("expires-negative", {"X-Amz-Expires": "-1"}, 400, "AuthorizationQueryParametersError", "must be non-negative"),
    ("expires-week", {"X-Amz-Expires": "604801"}, 400, "AuthorizationQueryParametersError", "less than a week"),
    ("signed-headers", {"X-Amz-SignedHeaders": "range"}, 403, "AccessDenied", "headers present in the request"),
    ("future", {"X-Amz-Date": "20260528T230000Z"}, 403, "AccessDenied", "Request is not valid yet"),
]


@pytest.mark.parametrize(("change", "status", "code", "words"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_refusals_answer_as_s3(client: TestClient, change: Any, status: int, code: str, words: str) -> None:
    url = _first_document(client)["pdf"]["url"]
    target = url.split("?")[0] if change == "drop-all" else _with(url, **change)
    response = client.get(target)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/xml")
    assert f"<Code>{code}</Code>" in response.text and words in response.text
    assert _last_entry(client)["download_error"] == code


def test_credential_parts_are_checked(client: TestClient) -> None:
    url = _first_document(client)["pdf"]["url"]
    key_id, date, region, service, terminal = _params(url)["X-Amz-Credential"].split("/")
    cases = {
        f"{key_id}/20260529/{region}/{service}/{terminal}": (400, "This date is not the same as X-Amz-Date"),
        f"{key_id}/{date}/{region}/ec2/{terminal}": (400, 'incorrect service "ec2"'),
        f"{key_id}/{date}/{region}/{service}/aws5_request": (400, 'incorrect terminal "aws5_request"'),
        f"{key_id}/{date}/us-east-1/{service}/{terminal}": (400, "<Region>eu-west-3</Region>"),
        f"AKIAUNKNOWN0000000/{date}/{region}/{service}/{terminal}": (403, "<Code>InvalidAccessKeyId</Code>"),
    }
    for credential, (status, words) in cases.items():
        response = client.get(_with(url, **{"X-Amz-Credential": credential}))
        assert (response.status_code, words in response.text) == (status, True), (credential, response.text)


def test_a_bearer_token_with_the_link_is_refused(client: TestClient) -> None:
    """S3 allows one auth mechanism: an HTTP session that sends its bearer token everywhere fails here."""
    url = _first_document(client)["pdf"]["url"]
    token = access_token(client, "read:documents")
    response = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert "<Code>InvalidArgument</Code>" in response.text
    assert "<Message>Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter" in response.text
    assert f"<ArgumentValue>Bearer {token}</ArgumentValue>" in response.text
    entry = _last_entry(client)
    assert entry["authorization_header"] == "Bearer" and entry["download_error"] == "InvalidArgument"
    assert token not in str(entry)  # the journal names the scheme, never the token
    bare = client.get(url.split("?")[0], headers={"Authorization": f"Bearer {token}"})
    assert bare.status_code == 400 and "Unsupported Authorization Type" in bare.text


def test_unknown_document_is_no_such_key(client: TestClient) -> None:
    ctx = ctx_of(client)
    url = signed_pdf_url(ctx, str(uuid.uuid4()), "x.pdf", ctx.clock.now() + 3600)
    response = client.get(url)
    assert response.status_code == 404 and "<Code>NoSuchKey</Code>" in response.text
    assert "<Key>" in response.text


def test_only_the_bucket_lives_on_the_files_origin(client: TestClient) -> None:
    for path in ("/documents", "/openapi.json", "/_mock/credentials", "/oauth2/token"):
        response = client.get(FILES + path)
        assert response.status_code == 404 and "<Code>NoSuchBucket</Code>" in response.text, path
    assert client.get(FILES + "/").status_code == 403
    doc = _first_document(client)
    on_api = client.get(doc["pdf"]["url"].replace(FILES, "http://127.0.0.1:8765"))
    assert on_api.status_code == 404 and on_api.headers["content-type"].startswith("application/problem+json")
    post = client.post(doc["pdf"]["url"])
    assert post.status_code == 405 and post.headers["allow"] == "GET, HEAD"
    assert "<Code>MethodNotAllowed</Code>" in post.text


def test_head_answers_headers_only(client: TestClient) -> None:
    url = _first_document(client)["pdf"]["url"]
    refused = client.head(url)  # signed for GET: the method is part of the signature
    assert refused.status_code == 403 and refused.content == b""


# -- ranges -------------------------------------------------------------------------------------------


def test_ranges(client: TestClient) -> None:
    url = _first_document(client)["pdf"]["url"]
    whole = client.get(url).content
    size = len(whole)
    for header, first, last in (("bytes=0-9", 0, 9), ("bytes=-10", size - 10, size - 1),
                                ("bytes=100-", 100, size - 1), ("bytes=5-999999", 5, size - 1)):  # fmt: skip
        part = client.get(url, headers={"Range": header})
        assert part.status_code == 206, header
        assert part.headers["content-range"] == f"bytes {first}-{last}/{size}"
        assert part.content == whole[first : last + 1] and int(part.headers["content-length"]) == len(part.content)
    entry = _last_entry(client)
    assert entry["download_range"] == f"5-{size - 1}" and entry["download_complete"] is False
    for ignored in ("bytes=0-1,4-5", "items=0-1", "bytes=9-2", "bytes=x"):
        assert client.get(url, headers={"Range": ignored}).status_code == 200, ignored
    beyond = client.get(url, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416 and "<Code>InvalidRange</Code>" in beyond.text
    assert beyond.headers["content-range"] == f"bytes */{size}"
    assert f"<ActualObjectSize>{size}</ActualObjectSize>" in beyond.text
    assert client.get(url, headers={"Range": "bytes=" + "9" * 5000 + "-"}).status_code == 416


# -- not rate limited, faults, the real server ---------------------------------------------------


def test_downloads_are_not_rate_limited(app_client: Any) -> None:
    client = app_client(rate_limit_capacity=2, rate_limit_refill=0)
    ctx = ctx_of(client)
    doc = ctx.store.documents.values()[0]
    url = domain.public_document(ctx, doc)["pdf"]["url"]
    assert all(client.get(url).status_code == 200 for _ in range(5))
    assert "x-ratelimit-limit" not in client.get(url).headers


def test_pdf_is_cached_per_document(client: TestClient) -> None:
    ctx = ctx_of(client)
    doc = ctx.store.documents.values()[0]
    assert render_document_pdf(ctx, doc) is render_document_pdf(ctx, doc)


def test_download_fault_error_and_truncate(client: TestClient) -> None:
    ctx = ctx_of(client)
    doc = _first_document(client)
    ctx.download_fault = lambda document_uuid: "error"
    failed = client.get(doc["pdf"]["url"])
    assert failed.status_code == 500 and "<Code>InternalError</Code>" in failed.text
    ctx.download_fault = lambda document_uuid: "error_503"
    assert "<Code>SlowDown</Code>" in client.get(doc["pdf"]["url"]).text
    ctx.download_fault = lambda document_uuid: "truncate"
    cut = client.get(doc["pdf"]["url"])
    assert int(cut.headers["content-length"]) > len(cut.content) > 0
    entry = _last_entry(client)
    assert entry["download_complete"] is False and entry["download_bytes"] == len(cut.content)


def test_served_by_uvicorn_on_two_ports(live_mock: Any) -> None:
    mock = live_mock()
    ctx = mock.context
    assert mock.files_url == ctx.settings.files_base_url != mock.url
    url = domain.public_document(ctx, ctx.store.documents.values()[0])["pdf"]["url"]
    assert url.startswith(mock.files_url + "/askara-documents/")
    assert httpx.get(url).status_code == 200
    assert httpx.get(mock.files_url + "/documents").status_code == 404
    assert httpx.get(mock.url + "/openapi.json").status_code == 200
    ctx.download_fault = lambda document_uuid: "truncate"
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(url)


def test_links_survive_a_restart_with_state(tmp_path: Any) -> None:
    settings = make_settings(state_path=str(tmp_path / "state.db"))
    with TestClient(create_app(settings), base_url=settings.base_url) as first:
        url = _first_document(first)["pdf"]["url"]
        key_id = ctx_of(first).s3_access_key_id
    with TestClient(create_app(settings), base_url=settings.base_url) as second:
        assert ctx_of(second).s3_access_key_id == key_id
        assert second.get(url).status_code == 200


# -- settings ----------------------------------------------------------------------------------------


def test_files_settings() -> None:
    assert Settings().files_port == 8766 and Settings().files_base_url == "http://127.0.0.1:8766"
    assert Settings(port=9000).files_port == 9001
    assert Settings().replace(port=9000).files_port == 9001  # derived ports follow
    assert Settings(files_port=7000).replace(port=9000).files_port == 7000  # given ones stay
    assert Settings(files_public_url="https://files.example/").files_base_url == "https://files.example"
    for bad in ({"files_port": 8765}, {"files_public_url": "http://files.example/bucket"},
                {"files_public_url": "files.example"}, {"files_bucket": "Not_A_Bucket"},
                {"public_url": "http://a.example", "files_public_url": "http://a.example"}):  # fmt: skip
        with pytest.raises(ConfigError):
            Settings(**bad)  # type: ignore[arg-type]


def test_a_public_files_name_is_reached_by_its_host(app_client: Any) -> None:
    client = app_client(public_url="http://api.example", files_public_url="http://files.example")
    url = _first_document(client)["pdf"]["url"]
    assert url.startswith("http://files.example/askara-documents/")
    assert client.get(url).status_code == 200
    assert client.get("http://api.example/documents").status_code == 401
