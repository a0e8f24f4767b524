"""Unit tests of the reference integration's logic against a scripted fake Askara (no sockets, no mock).

Each test pins one rule of the guides (and the defect that breaks it), so a harness check that
fails on the reference can be told apart from a reference that drifted. pytest puts this folder
on sys.path (no ``__init__.py``), so the ``ref_*`` modules import as the script imports them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_askara import API, PDF, FakeAskara, document_event, file_response
from ref_api import AskaraApi, Credentials
from ref_defects import DEFECTS, Defects
from ref_importer import Importer
from ref_polling import Poller
from ref_receiver import Receiver
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

U1 = "11111111-1111-4111-8111-111111111111"
U2 = "22222222-2222-4222-8222-222222222222"


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


def make(tmp_path: Path, *defects: str, fake: FakeAskara | None = None) -> tuple[FakeAskara, Importer]:
    fake = fake or FakeAskara()
    chosen = Defects(defects)
    http = fake.client()
    api = AskaraApi(http, Credentials(API, "cid", "secret", fake.refresh_token, None), chosen)
    return fake, Importer(api, http, tmp_path, chosen)


def outcomes(fake: FakeAskara, doc_uuid: str = U1) -> list[bool]:
    return [body["success"] for uuid, body in fake.status_reports if uuid == doc_uuid]


def cut() -> httpx.Response:
    return file_response(PDF[:10], len(PDF))


def test_every_defect_names_a_check() -> None:
    assert all(d.check and d.does for d in DEFECTS.values())
    with pytest.raises(ValueError, match="Did you mean 'hammer-429'"):
        Defects(["hammer429"])


def test_import_saves_and_confirms_then_refreshes_with_the_newest_token(tmp_path: Path) -> None:
    fake, importer = make(tmp_path)
    run(importer.handle_event(document_event(U1)))
    path = (tmp_path / f"{U1}.pdf").resolve()
    assert fake.status_reports == [(U1, {"success": True, "directory": "reference-integration", "path": str(path)})]
    assert path.read_bytes() == PDF
    assert "scope" not in fake.token_bodies[0], "omitting scope keeps every consented scope"
    fake.expire_access_tokens()
    run(importer.handle_event(document_event(U2)))
    assert outcomes(fake, U2) == [True]
    assert fake.token_bodies[1]["refresh_token"] == fake.issued[0], "the rotated token, not the original"


def test_reuse_refresh_token_breaks_the_second_refresh(tmp_path: Path) -> None:
    fake, importer = make(tmp_path, "reuse-refresh-token")
    run(importer.handle_event(document_event(U1)))
    fake.expire_access_tokens()
    run(importer.handle_event(document_event(U2)))
    assert [b["refresh_token"] for b in fake.token_bodies] == ["def502-first", "def502-first"]
    assert outcomes(fake, U2) == []


def test_no_refresh_gives_up_on_401(tmp_path: Path) -> None:
    fake, importer = make(tmp_path, "no-refresh")
    run(importer.api.token())
    fake.expire_access_tokens()
    run(importer.handle_event(document_event(U1)))
    assert len(fake.token_bodies) == 1
    assert fake.status_reports == []


def test_narrow_scope_asks_for_read_documents_only(tmp_path: Path) -> None:
    fake, importer = make(tmp_path, "narrow-scope")
    run(importer.api.token())
    assert fake.token_bodies[0]["scope"] == "read:documents"


@pytest.mark.parametrize(("defects", "renewed", "success"), [((), True, True), (("ignore-expiry",), False, False)])
def test_expired_link_is_renewed(tmp_path: Path, defects: tuple[str, ...], renewed: bool, success: bool) -> None:
    fake, importer = make(tmp_path, *defects)
    fake.queue(f"/files/{U1}/letter.pdf", file_response(b"<Code>AccessDenied</Code>", status=403))
    run(importer.handle_event(document_event(U1)))
    assert (f"GET /documents/{U1}" in fake.paths()) is renewed
    assert outcomes(fake) == [success]
    if not success:
        assert "403" in fake.status_reports[0][1]["error"]


@pytest.mark.parametrize(("defects", "sent"), [((), False), (("bearer-to-pdf-link",), True)])
def test_downloads_carry_no_bearer_token(tmp_path: Path, defects: tuple[str, ...], sent: bool) -> None:
    """The link is pre-signed: S3 refuses a second auth mechanism, so the token stays on the API host."""
    fake, importer = make(tmp_path, *defects)
    run(importer.handle_event(document_event(U1)))
    downloads = [r for r in fake.requests if r.url.path.startswith("/files/")]
    assert downloads and all(("authorization" in r.headers) is sent for r in downloads)


@pytest.mark.parametrize(
    ("cuts", "defects", "downloads", "success"),
    [(2, (), 3, True), (3, (), 3, False), (1, ("dishonest-confirm",), 1, True)],
)
def test_cut_body_is_retried_and_never_reported_as_success(
    tmp_path: Path, cuts: int, defects: tuple[str, ...], downloads: int, success: bool
) -> None:
    fake, importer = make(tmp_path, *defects)
    fake.queue(f"/files/{U1}/letter.pdf", *[cut() for _ in range(cuts)])
    run(importer.handle_event(document_event(U1)))
    assert len(fake.paths("/files/")) == downloads
    assert outcomes(fake) == [success]
    if not success:
        assert "cut short" in fake.status_reports[0][1]["error"]


@pytest.mark.parametrize(("defects", "reports"), [((), [False]), (("silent-failure",), []), (("never-confirm",), [])])
def test_failure_is_confirmed(tmp_path: Path, defects: tuple[str, ...], reports: list[bool]) -> None:
    fake, importer = make(tmp_path, *defects)
    fake.queue(f"/files/{U1}/letter.pdf", *[file_response(b"", status=503) for _ in range(3)])
    run(importer.handle_event(document_event(U1)))
    assert len(fake.paths("/files/")) == 3
    assert outcomes(fake) == reports


def test_never_confirm_skips_success_reports_too(tmp_path: Path) -> None:
    fake, importer = make(tmp_path, "never-confirm")
    run(importer.handle_event(document_event(U1)))
    assert (tmp_path / f"{U1}.pdf").exists() and fake.status_reports == []


@pytest.mark.parametrize(("defects", "downloads"), [((), 1), (("no-dedupe",), 2), (("fail-first",), 2)])
def test_dedupe_by_uuid(tmp_path: Path, defects: tuple[str, ...], downloads: int) -> None:
    fake, importer = make(tmp_path, *defects)
    run(importer.handle_event(document_event(U1)))
    run(importer.handle_event(document_event(U1, action="document_synchronize")))
    assert len(fake.paths("/files/")) == downloads


def test_a_failed_import_may_be_tried_again(tmp_path: Path) -> None:
    fake, importer = make(tmp_path)
    fake.queue(f"/files/{U1}/letter.pdf", file_response(b"", status=404))
    run(importer.handle_event(document_event(U1)))
    run(importer.handle_event(document_event(U1, action="document_synchronize")))
    assert outcomes(fake) == [False, True]


def test_notes_are_stored_once(tmp_path: Path) -> None:
    fake, importer = make(tmp_path)
    event = {"id": U2, "action": "new_note", "metadata": {"note": {"uuid": U2, "content": "x"}}}
    run(importer.handle_event(event))
    run(importer.handle_event(event))
    assert fake.paths("/notes/") == [f"GET /notes/{U2}"]
    assert (tmp_path / "notes" / f"{U2}.json").exists()


def test_429_waits_for_retry_after(tmp_path: Path) -> None:
    fake, importer = make(tmp_path)
    fake.queue(f"/documents/{U1}/status", httpx.Response(429, headers={"retry-after": "0.3"}))
    run(importer.handle_event(document_event(U1)))
    first, second = fake.times_of(f"/documents/{U1}/status")
    assert second - first >= 0.3
    assert outcomes(fake) == [True]


def test_hammer_429_retries_at_once_and_is_bounded(tmp_path: Path) -> None:
    fake, importer = make(tmp_path, "hammer-429")
    fake.queue(f"/documents/{U1}/status", *[httpx.Response(429, headers={"retry-after": "30"}) for _ in range(60)])
    started = time.monotonic()
    run(importer.handle_event(document_event(U1)))
    assert len(fake.times_of(f"/documents/{U1}/status")) == 50
    assert time.monotonic() - started < 5


def test_an_empty_bucket_holds_the_next_call_until_reset(tmp_path: Path) -> None:
    """``x-ratelimit-reset`` is on the SERVER's clock; the reference learns the offset from the token's iat."""
    fake, importer = make(tmp_path)
    empty = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(1_780_000_000 + 1)}
    fake.queue(f"/documents/{U1}/status", httpx.Response(201, json={}, headers=empty))

    async def two_imports() -> None:
        await importer.handle_event(document_event(U1))
        await importer.handle_event(document_event(U2))

    run(two_imports())
    assert fake.times_of(f"/documents/{U2}/status")[0] - fake.times_of(f"/documents/{U1}/status")[0] >= 0.5


@pytest.mark.parametrize(("defects", "pages"), [((), 3), (("first-page-only",), 1)])
def test_polling_reads_every_page_before_importing(tmp_path: Path, defects: tuple[str, ...], pages: int) -> None:
    documents = [document_event(f"{n:08d}-0000-4000-8000-000000000000")["metadata"]["document"] for n in range(45)]
    fake, importer = make(tmp_path, *defects, fake=FakeAskara(documents=documents))
    poller = Poller(importer.api, importer, 30.0, importer.defects)
    run(poller.poll_once())
    lists = [r for r in fake.requests if r.url.path == "/documents"]
    assert [r.url.params["page"] for r in lists] == [str(n) for n in range(1, pages + 1)]
    assert all(r.url.params["synchronized"] == "false" for r in lists)
    assert len(fake.status_reports) == min(45, 20 * pages)
    assert fake.paths().index("GET /documents") < fake.paths().index(f"POST /documents/{documents[0]['uuid']}/status")
    assert Poller(importer.api, importer, 30.0, Defects(["poll-every-second"])).interval == 1.0


def receiver_client(tmp_path: Path, *defects: str, mode: str = "webhook") -> tuple[Receiver, TestClient]:
    _, importer = make(tmp_path, *defects)
    receiver = Receiver(importer, importer.defects, None, False, mode)
    app = Starlette(routes=[Route("/webhook", receiver.webhook, methods=["POST"])])
    return receiver, TestClient(app)


def batch() -> dict[str, Any]:
    return {"events": [document_event(U1), document_event(U2), {"id": U2, "action": "brand_new"}], "meta": {}}


@pytest.mark.parametrize(
    ("defects", "mode", "answers", "queued"),
    [
        ((), "webhook", [200, 200], 6),
        (("fail-first",), "webhook", [500, 200], 6),
        (("first-event-only",), "webhook", [200, 200], 2),
        (("crash-unknown-event",), "webhook", [500, 500], 0),
        ((), "polling", [200, 200], 0),
    ],
)
def test_receiver_answers_and_queues(
    tmp_path: Path, defects: tuple[str, ...], mode: str, answers: list[int], queued: int
) -> None:
    receiver, client = receiver_client(tmp_path, *defects, mode=mode)
    assert [client.post("/webhook", json=batch()).status_code for _ in answers] == answers
    assert receiver.queue.qsize() == queued
