"""Pre-signed PDF links: real PDFs without a token, S3-like 403 once expired or tampered with."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
import pypdf
import pytest
from conftest import access_token
from starlette.testclient import TestClient

from mock_server import domain
from mock_server.domain.links import signed_pdf_url
from mock_server.domain.pdf import render_document_pdf


def _ctx(client: TestClient) -> Any:
    return client.app.state.mock  # type: ignore[attr-defined]


def _first_document(client: TestClient) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {access_token(client, 'read:documents')}"}
    return client.get("/documents", headers=headers).json()[0]  # type: ignore[no-any-return]


def test_download_is_a_real_pdf_with_the_patient_name(client: TestClient) -> None:
    doc = _first_document(client)
    response = client.get(doc["pdf"]["url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert int(response.headers["content-length"]) == len(response.content)
    assert doc["pdf"]["fileName"] in response.headers["content-disposition"]
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert doc["patient"]["lastName"].upper() in text.upper()
    entry = _ctx(client).store.journal.values()[-1]
    assert entry["kind"] == "download" and entry["document_uuid"] == doc["uuid"]
    assert entry["download_bytes"] == len(response.content) and entry["download_complete"] is True


def test_link_is_valid_an_hour_on_the_mock_clock(client: TestClient) -> None:
    doc = _first_document(client)
    _ctx(client).clock.advance(3599)
    assert client.get(doc["pdf"]["url"]).status_code == 200
    _ctx(client).clock.advance(2)
    expired = client.get(doc["pdf"]["url"])
    assert expired.status_code == 403
    assert expired.headers["content-type"].startswith("application/xml")
    assert "<Code>AccessDenied</Code>" in expired.text and "<Message>Request has expired</Message>" in expired.text
    assert _ctx(client).store.journal.values()[-1]["download_complete"] is False


@pytest.mark.parametrize(
    "tamper",
    [
        lambda url: url[:-1] + ("0" if url[-1] != "0" else "1"),
        lambda url: url.replace("expires=", "expires=9"),
        lambda url: url.split("&signature=")[0],
        lambda url: url.split("?")[0],
        lambda url: url.replace(".pdf?", "x.pdf?"),
    ],
)
def test_tampered_link_is_403_signature_does_not_match(client: TestClient, tamper: Any) -> None:
    doc = _first_document(client)
    response = client.get(tamper(doc["pdf"]["url"]))
    assert response.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in response.text


def test_unknown_document_is_no_such_key(client: TestClient) -> None:
    ctx = _ctx(client)
    url = signed_pdf_url(ctx, str(uuid.uuid4()), "x.pdf", ctx.clock.now() + 60)
    response = client.get(url)
    assert response.status_code == 404 and "<Code>NoSuchKey</Code>" in response.text


def test_pdf_is_cached_per_document(client: TestClient) -> None:
    ctx = _ctx(client)
    doc = ctx.store.documents.values()[0]
    assert render_document_pdf(ctx, doc) is render_document_pdf(ctx, doc)


def test_download_fault_error_and_truncate(client: TestClient) -> None:
    ctx = _ctx(client)
    doc = _first_document(client)
    ctx.download_fault = lambda document_uuid: "error"
    failed = client.get(doc["pdf"]["url"])
    assert failed.status_code == 500 and "<Code>InternalError</Code>" in failed.text
    ctx.download_fault = lambda document_uuid: "truncate"
    cut = client.get(doc["pdf"]["url"])
    assert int(cut.headers["content-length"]) > len(cut.content) > 0
    entry = ctx.store.journal.values()[-1]
    assert entry["download_complete"] is False and entry["download_bytes"] == len(cut.content)


def test_truncated_download_breaks_a_real_client(live_mock: Any) -> None:
    mock = live_mock()
    ctx = mock.context
    doc = domain.public_document(ctx, ctx.store.documents.values()[0])
    url = doc["pdf"]["url"].replace(ctx.settings.base_url, mock.url)
    assert httpx.get(url).status_code == 200
    ctx.download_fault = lambda document_uuid: "truncate"
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(url)
