"""The mock's SigV4 query signing, proved against botocore's own presigner and AWS's published example.

botocore is what an S3-backed Askara would sign its links with. With the mock's credentials,
region, endpoint, path-style addressing and botocore's clock frozen at the mock's clock,
``generate_presigned_url("get_object", ...)`` must give the very URL the mock hands out, and the
files origin must accept what botocore signs (and refuse what it signs with other credentials).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import botocore.session
import pytest
from botocore.config import Config
from conftest import ctx_of
from starlette.testclient import TestClient

from mock_server import domain
from mock_server.core.sigv4 import Credentials, amz_date, parse_amz_date, presign, uri_encode
from mock_server.domain.links import credentials, host_of, signed_pdf_url


def botocore_client(ctx: Any, *, secret: str | None = None, region: str | None = None) -> Any:
    session = botocore.session.get_session()
    return session.create_client(
        "s3",
        region_name=region or ctx.settings.files_region,
        endpoint_url=ctx.settings.files_base_url,
        aws_access_key_id=ctx.s3_access_key_id,
        aws_secret_access_key=secret or ctx.url_signing_secret,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


@pytest.fixture
def frozen(client: TestClient) -> Iterator[datetime.datetime]:
    """botocore's clock (``botocore.auth.get_current_datetime``) stopped at the mock clock's second."""
    now = datetime.datetime.fromtimestamp(int(ctx_of(client).clock.now()), tz=datetime.UTC).replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=now):
        yield now


def _document(client: TestClient) -> dict[str, Any]:
    ctx = ctx_of(client)
    return domain.public_document(ctx, ctx.store.documents.values()[0])


def _presigned(client: TestClient, operation: str = "get_object", expires: int = 3600, **kwargs: Any) -> str:
    doc = _document(client)
    key = f"{doc['uuid']}/{doc['pdf']['fileName']}"
    params = {"Bucket": ctx_of(client).settings.files_bucket, "Key": key}
    return str(botocore_client(ctx_of(client), **kwargs).generate_presigned_url(operation, Params=params,
                                                                                 ExpiresIn=expires))  # fmt: skip


def test_the_mock_hands_out_the_url_botocore_presigns(client: TestClient, frozen: datetime.datetime) -> None:
    ours = _document(client)["pdf"]["url"]
    theirs = _presigned(client)
    assert dict(parse_qsl(urlsplit(ours).query))["X-Amz-Signature"] == dict(parse_qsl(urlsplit(theirs).query))[
        "X-Amz-Signature"
    ]
    assert ours == theirs  # same path encoding, same parameters in the same order
    assert dict(parse_qsl(urlsplit(ours).query))["X-Amz-Date"] == frozen.strftime("%Y%m%dT%H%M%SZ")


def test_the_files_origin_accepts_what_botocore_presigns(client: TestClient, frozen: datetime.datetime) -> None:
    response = client.get(_presigned(client))
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"%PDF-")
    head = client.head(_presigned(client, "head_object"))
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(response.content)
    assert head.headers["etag"] == response.headers["etag"]


def test_a_head_with_a_get_link_does_not_match(client: TestClient, frozen: datetime.datetime) -> None:
    """The method is signed: S3 refuses HEAD on a link pre-signed for GET (and the reverse)."""
    assert client.head(_presigned(client)).status_code == 403
    refused = client.get(_presigned(client, "head_object"))
    assert refused.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in refused.text


def test_botocore_expiry_is_judged_on_the_mock_clock(client: TestClient, frozen: datetime.datetime) -> None:
    url = _presigned(client, expires=60)
    assert client.get(url).status_code == 200
    ctx_of(client).clock.advance(60)
    assert client.get(url).status_code == 200
    ctx_of(client).clock.advance(1)
    expired = client.get(url)
    assert expired.status_code == 403 and "<Message>Request has expired</Message>" in expired.text
    assert "<X-Amz-Expires>60</X-Amz-Expires>" in expired.text


def test_botocore_with_the_wrong_secret_or_region_is_refused(client: TestClient, frozen: datetime.datetime) -> None:
    wrong = client.get(_presigned(client, secret="not-the-secret"))
    assert wrong.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in wrong.text
    region = client.get(_presigned(client, region="us-east-1"))
    assert region.status_code == 400 and "<Code>AuthorizationQueryParametersError</Code>" in region.text
    assert "the region 'us-east-1' is wrong; expecting 'eu-west-3'" in region.text
    assert "<Region>eu-west-3</Region>" in region.text


@pytest.mark.parametrize("key", ["abc/file name+é.pdf", "a/b~c/(1)*!'.pdf", "x/%41.pdf", "ünï/çødé.pdf"])
def test_path_encoding_matches_botocore(client: TestClient, frozen: datetime.datetime, key: str) -> None:
    """Keys outside the mock's ASCII file names: the canonical URI is encoded exactly as botocore does."""
    ctx = ctx_of(client)
    params = {"Bucket": ctx.settings.files_bucket, "Key": key}
    theirs = botocore_client(ctx).generate_presigned_url("get_object", Params=params, ExpiresIn=900)
    path = f"/{ctx.settings.files_bucket}/{key}"
    query = presign(credentials(ctx), method="GET", host=host_of(ctx.settings.files_base_url), path=path,
                    signed_at=int(ctx.clock.now()), expires=900)  # fmt: skip
    assert theirs == f"{ctx.settings.files_base_url}{uri_encode(path, keep_slash=True)}?{query}"


def test_aws_documented_example() -> None:
    """AWS's worked example of a pre-signed GET (S3 API reference: "Authenticating Requests: Using Query
    Parameters")."""
    example = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1")
    query = presign(example, method="GET", host="examplebucket.s3.amazonaws.com", path="/test.txt",
                    signed_at=parse_amz_date("20130524T000000Z") or 0, expires=86400)  # fmt: skip
    assert query.endswith("&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")


def test_amz_dates_round_trip() -> None:
    assert amz_date(1_780_000_000) == "20260528T202640Z"
    assert parse_amz_date("20260528T202640Z") == 1_780_000_000
    for bad in ("20260528T202640", "2026-05-28T20:26:40Z", "20261328T000000Z", "２０２６0528T202640Z", ""):
        assert parse_amz_date(bad) is None


def test_a_link_is_a_pure_function_of_secret_document_and_second(app_client: Any) -> None:
    """Two mocks with the same secret and clock sign the same bytes; another secret, another key id and signature."""
    one, two, other = (app_client(url_signing_secret=s) for s in ("fixed", "fixed", "another"))
    doc = ctx_of(one).store.documents.values()[0]
    urls = [signed_pdf_url(ctx_of(c), doc["uuid"], doc["pdf"]["fileName"], ctx_of(c).clock.now() + 3600)
            for c in (one, two, other)]  # fmt: skip
    assert urls[0] == urls[1] != urls[2]
    assert ctx_of(one).s3_access_key_id == ctx_of(two).s3_access_key_id != ctx_of(other).s3_access_key_id
    assert ctx_of(one).s3_access_key_id.startswith("AKIA") and len(ctx_of(one).s3_access_key_id) == 20
