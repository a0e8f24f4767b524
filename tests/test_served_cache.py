"""The caches behind ``GET /documents`` change nothing a client can see.

The list body is memoised per (organization, documents-table version, link expiry second, query,
media type) and each document's served form per store stamp; these tests make every kind of
change a client could observe and check the next read shows it, byte for byte what an uncached
mock answers.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qs, urlsplit

from conftest import access_token
from starlette.testclient import TestClient

from mock_server import domain
from mock_server.core.sigv4 import parse_amz_date
from mock_server.core.store import Backend, Table

ALL = "read:documents write:document_integrations"


def _ctx(client: TestClient) -> Any:
    return client.app.state.mock  # type: ignore[attr-defined]


def _auth(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token(client, ALL)}"}


def _expiry(doc: dict[str, Any]) -> int:
    """X-Amz-Date + X-Amz-Expires of the document's link, in epoch seconds."""
    query = parse_qs(urlsplit(doc["pdf"]["url"]).query)
    return int(parse_amz_date(query["X-Amz-Date"][0]) or 0) + int(query["X-Amz-Expires"][0])


def _uncached(client: TestClient, path: str, headers: dict[str, str]) -> bytes:
    """What the mock answers with both caches emptied first."""
    ctx = _ctx(client)
    ctx.caches.list_bodies.clear()
    ctx.caches.served_documents.clear()
    return client.get(path, headers=headers).content


def test_repeated_reads_are_the_uncached_bytes(client: TestClient) -> None:
    headers = _auth(client)
    for path in ("/documents", "/documents?itemsPerPage=5&page=2", "/documents?order[updatedAt]=desc"):
        first = client.get(path, headers=headers).content
        assert client.get(path, headers=headers).content == first
        assert _uncached(client, path, headers) == first
    ld = {**headers, "Accept": "application/ld+json"}
    hydra = client.get("/documents?itemsPerPage=3", headers=ld)
    assert hydra.headers["content-type"].startswith("application/ld+json")
    assert hydra.json()["@type"] == "Collection"
    plain = client.get("/documents?itemsPerPage=3", headers=headers)
    assert plain.headers["content-type"].startswith("application/json") and isinstance(plain.json(), list)
    assert client.get("/documents?itemsPerPage=3", headers=ld).content == hydra.content


def test_links_follow_the_clock(client: TestClient) -> None:
    headers, ctx = _auth(client), _ctx(client)
    ttl = ctx.settings.pdf_url_ttl
    before = client.get("/documents", headers=headers).json()
    assert {_expiry(d) for d in before} == {math.floor(ctx.clock.now()) + ttl}
    ctx.clock.advance(0.4)
    same_second = client.get("/documents", headers=headers).json()
    assert {_expiry(d) for d in same_second} == {math.floor(ctx.clock.now()) + ttl}
    ctx.clock.advance(ttl)
    headers = _auth(client)  # the first token expired too
    after = client.get("/documents", headers=headers).json()
    assert {_expiry(d) for d in after} == {math.floor(ctx.clock.now()) + ttl}
    assert client.get(before[0]["pdf"]["url"]).status_code == 403  # the old link expired on the mock clock
    assert client.get(after[0]["pdf"]["url"]).status_code == 200
    single = client.get(f"/documents/{after[0]['uuid']}", headers=headers).json()
    assert _expiry(single) == math.floor(ctx.clock.now()) + ttl


def test_status_reports_show_at_once(client: TestClient) -> None:
    headers = _auth(client)
    pending = client.get("/documents?synchronized=false", headers=headers).json()
    listed = client.get("/documents", headers=headers).json()
    target = pending[0]["uuid"]
    ok = client.post(f"/documents/{target}/status", json={"success": True}, headers=headers)
    assert ok.status_code == 200 and ok.json()["synchronized"] is True
    now = {d["uuid"]: d for d in client.get("/documents", headers=headers).json()}
    assert now[target]["synchronized"] is True and now[target]["synchronizedAt"]
    assert target not in {d["uuid"] for d in client.get("/documents?synchronized=false", headers=headers).json()}
    failed = client.post(f"/documents/{target}/status", json={"success": False, "error": "disk full"}, headers=headers)
    assert failed.status_code == 200
    again = {d["uuid"]: d for d in client.get("/documents", headers=headers).json()}
    assert again[target]["synchronized"] is False and again[target]["lastError"] == "disk full"
    assert len(again) == len(listed)


def test_new_documents_and_reset_show_at_once(client: TestClient) -> None:
    headers = _auth(client)
    count = len(client.get("/documents", headers=headers).json())
    draft = client.post("/_mock/documents", json={"validate": False}).json()["document"]
    assert len(client.get("/documents", headers=headers).json()) == count  # a draft is not served
    assert client.post(f"/_mock/documents/{draft['uuid']}/validate").status_code in (200, 201)
    listed = client.get("/documents", headers=headers).json()
    assert draft["uuid"] in {d["uuid"] for d in listed} and len(listed) == count + 1
    assert client.post("/_mock/reset").status_code == 200
    headers = _auth(client)
    assert len(client.get("/documents", headers=headers).json()) == count


def test_expired_link_fault_does_not_leak_into_reads(client: TestClient) -> None:
    """The fault rewrites the event's copy; the served body (and its memo) keeps good links."""
    headers = _auth(client)
    client.get("/documents", headers=headers)
    assert client.post("/_mock/faults", json={"kind": "expired_link", "count": 2}).status_code == 201
    answer = client.post("/_mock/documents", json={"validate": True}).json()
    stale = answer["event"]["payload"]["metadata"]["document"]["pdf"]["url"]
    assert client.get(stale).status_code == 403
    doc = {d["uuid"]: d for d in client.get("/documents", headers=headers).json()}[answer["document"]["uuid"]]
    assert doc["pdf"]["url"] != stale and client.get(doc["pdf"]["url"]).status_code == 200
    for served in client.get("/documents", headers=headers).json():
        assert client.get(served["pdf"]["url"]).status_code == 200


def test_download_fault_applies_to_links_from_a_cached_list(client: TestClient) -> None:
    headers = _auth(client)
    client.get("/documents", headers=headers)
    doc = client.get("/documents", headers=headers).json()[0]
    assert client.post("/_mock/faults", json={"kind": "download", "mode": "error"}).status_code == 201
    assert client.get(doc["pdf"]["url"]).status_code == 500
    assert client.get(doc["pdf"]["url"]).status_code == 200


def test_public_document_returns_fresh_dicts(client: TestClient) -> None:
    ctx = _ctx(client)
    doc = next(d for d in ctx.store.documents if d["state"] == "verified")
    first = domain.public_document(ctx, doc)
    first["pdf"]["url"] = "tampered"
    first["patient"]["firstName"] = "tampered"
    first["title"] = "tampered"
    second = domain.public_document(ctx, doc)
    assert second["pdf"]["url"] != "tampered" and second["patient"]["firstName"] == doc["patient"]["firstName"]
    assert second["title"] == doc["title"]
    doc["title"] = "Changed in place"
    ctx.store.documents.save(doc["uuid"])  # the store's rule: an in-place change is followed by save/put
    assert domain.public_document(ctx, doc)["title"] == "Changed in place"
    detached = dict(doc, title="Not stored")  # a record that is not the stored one is never served from the memo
    assert domain.public_document(ctx, detached)["title"] == "Not stored"


def test_a_full_memo_forgets_the_least_recently_served_one_at_a_time(client: TestClient, monkeypatch: Any) -> None:
    """Past its limit the memo drops one entry per new one, oldest use first, never all at once
    (a clear-all freed ~80 000 objects inside one request at 100 000 documents); answers unchanged."""
    from mock_server.domain import documents

    ctx = _ctx(client)
    monkeypatch.setattr(documents, "SERVED_CACHE_LIMIT", 3)
    cache = ctx.caches.served_documents
    cache.clear()
    docs = list(ctx.store.documents)[:5]
    expected = [served_without_link(domain.public_document(ctx, d)) for d in docs[:3]]
    domain.public_document(ctx, docs[0])  # a hit makes it the most recent
    for doc in docs[3:]:
        domain.public_document(ctx, doc)
        assert len(cache) == 3
    assert list(cache) == [docs[0]["uuid"], docs[3]["uuid"], docs[4]["uuid"]]
    assert [served_without_link(domain.public_document(ctx, d)) for d in docs[:3]] == expected
    assert len(cache) == 3


def served_without_link(served: dict[str, Any]) -> dict[str, Any]:
    return {**served, "pdf": served["pdf"]["fileName"]}


def test_two_apps_share_nothing(app_client: Any) -> None:
    one, two = app_client(seed=1), app_client(seed=2, url_signing_secret="another-secret")
    body_one = one.get("/documents", headers=_auth(one)).json()
    body_two = two.get("/documents", headers=_auth(two)).json()
    assert {d["uuid"] for d in body_one}.isdisjoint({d["uuid"] for d in body_two})
    assert one.get(body_one[0]["pdf"]["url"]).status_code == 200
    assert two.get(body_two[0]["pdf"]["url"]).status_code == 200
    assert one.get(body_two[0]["pdf"]["url"]).status_code in (403, 404)
    assert one.get("/documents", headers=_auth(one)).json() == body_one


def test_table_versions_and_stamps() -> None:
    table = Table("documents", Backend())
    assert table.version == 0 and table.stamp("a") == 0
    record = table.put("a", {"uuid": "a"})
    first = table.stamp("a")
    assert first == table.version == 1
    table.put("b", {"uuid": "b"})
    assert table.stamp("a") == first  # another record's write leaves this stamp alone
    record["x"] = 1
    table.save("a")
    assert table.stamp("a") > first and table.version == table.stamp("a")
    version = table.version
    table.delete("a")
    assert table.version > version and table.stamp("a") == 0
    version = table.version
    table.clear()
    assert table.version > version and table.stamp("b") == 0
    bounded = Table("journal", Backend(), max_entries=2)
    for key in "abc":
        bounded.put(key, {"id": key})
    assert "a" not in bounded and bounded.stamp("a") == 0 and bounded.version == 4


def test_the_memo_holds_nothing_the_garbage_collector_walks(client: TestClient) -> None:
    """Entries refer to the record by ``id`` and keep a flat tuple of strings and numbers: once a
    collection has seen them (tuples are untracked lazily) not one is tracked, so 20 000 of them cost
    the young collections nothing. A record or a dict in the entry keeps every one tracked."""
    import gc

    ctx = _ctx(client)
    ctx.caches.served_documents.clear()
    for doc in list(ctx.store.documents)[:10]:
        domain.public_document(ctx, doc)
    gc.collect()
    entries = list(ctx.caches.served_documents.values())
    assert len(entries) == 10
    tracked = [e for e in entries if gc.is_tracked(e)]
    assert not tracked, tracked[:1]
