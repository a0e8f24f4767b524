"""API faults on demand: ``/_mock/faults`` and the route, token, bucket, download and link kinds."""

from __future__ import annotations

import asyncio
import math
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import access_token, make_settings
from starlette.testclient import TestClient

from mock_server import create_app
from mock_server.core.errors import Unauthorized
from mock_server.faults.api import Delays, _path_matches
from mock_server.faults.registry import take


def inject(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/_mock/faults", json=body)
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()
    return record


def violations(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {v["propertyPath"]: v["message"] for v in response.json()["violations"]}


def ctx_of(client: TestClient) -> Any:
    return client.app.state.mock  # type: ignore[attr-defined]


# -- the control endpoints ------------------------------------------------------------------------


def test_created_record_and_listing(client: TestClient) -> None:
    record = inject(client, kind="route", path="/documents", status=503, count=2)
    assert record["id"].startswith("flt_")
    assert record["kind"] == "route"
    assert record["params"] == {"path": "/documents", "status": 503, "count": 2}
    assert record["remaining"] == 2
    assert record["created_at"] == ctx_of(client).clock.now()
    assert client.get("/_mock/faults").json() == [record]


def test_delete_one_and_clear_all(client: TestClient) -> None:
    first = inject(client, kind="route", path="/a", status=500)
    inject(client, kind="route", path="/b", status=500)
    assert client.delete(f"/_mock/faults/{first['id']}").status_code == 204
    assert [f["params"]["path"] for f in client.get("/_mock/faults").json()] == ["/b"]
    missing = client.delete(f"/_mock/faults/{first['id']}")
    assert missing.status_code == 404
    assert first["id"] in missing.json()["detail"]
    assert client.delete("/_mock/faults").json() == {"cleared": 1}
    assert client.get("/_mock/faults").json() == []


def test_kinds_listing(client: TestClient) -> None:
    kinds = client.get("/_mock/faults/kinds").json()
    assert {"route", "expire_tokens", "drain_bucket", "download", "expired_link"} <= set(kinds)
    assert kinds == sorted(kinds)


def test_unknown_kind_names_the_known_ones(client: TestClient) -> None:
    found = violations(client.post("/_mock/faults", json={"kind": "meteor"}))
    assert "meteor" in found["kind"]
    for kind in ("route", "expire_tokens", "drain_bucket", "download", "expired_link"):
        assert kind in found["kind"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "kind"),
        ({"kind": 7}, "kind"),
        ({"kind": "route", "status": 500}, "path"),
        ({"kind": "route", "path": "documents", "status": 500}, "path"),
        ({"kind": "route", "path": "/documents", "status": 302}, "status"),
        ({"kind": "route", "path": "/documents", "status": 500, "count": 0}, "count"),
        ({"kind": "route", "path": "/documents", "latency": -1}, "latency"),
        ({"kind": "route", "path": "/documents", "method": "FETCH", "status": 500}, "method"),
        ({"kind": "route", "path": "/documents", "status": 500, "colour": "red"}, "colour"),
        ({"kind": "route", "path": "/documents"}, "status"),
        ({"kind": "route", "path": "/documents", "status": 500, "retry_after": 5}, "retry_after"),
        ({"kind": "download", "count": 1}, "mode"),
        ({"kind": "download", "mode": "explode"}, "mode"),
        ({"kind": "download", "mode": "error", "document": "not-a-uuid"}, "document"),
        ({"kind": "download", "mode": "error", "status": 502}, "status"),
        ({"kind": "download", "mode": "truncate", "status": 503}, "status"),
        ({"kind": "download", "mode": "delay"}, "latency"),
        ({"kind": "download", "mode": "error", "latency": 1}, "latency"),
        ({"kind": "expire_tokens", "now": True}, "now"),
        ({"kind": "drain_bucket", "client_id": ""}, "client_id"),
        ({"kind": "expired_link", "count": "2"}, "count"),
    ],
)
def test_bad_bodies_name_the_field(client: TestClient, body: dict[str, Any], field: str) -> None:
    response = client.post("/_mock/faults", json=body)
    assert field in violations(response), response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert client.get("/_mock/faults").json() == []


def test_malformed_bodies_are_problems(client: TestClient) -> None:
    bad_json = client.post("/_mock/faults", content=b"{nope", headers={"content-type": "application/json"})
    assert bad_json.status_code == 400
    assert client.post("/_mock/faults", content=b"kind=route").status_code == 415
    assert violations(client.post("/_mock/faults", json=["route"]))


def test_other_parts_register_kinds(client: TestClient) -> None:
    """The webhook sender adds its delivery kinds to the same registry and shares the list."""
    seen: list[dict[str, Any]] = []

    def duplicate(ctx: Any, body: dict[str, Any]) -> dict[str, Any]:
        seen.append(body)
        return {"remaining": body.get("count", 1)}

    ctx_of(client).fault_kinds["duplicate"] = duplicate
    record = inject(client, kind="duplicate", delay=5, count=3)
    assert seen == [{"kind": "duplicate", "delay": 5, "count": 3}]
    assert record["params"] == {"delay": 5, "count": 3} and record["remaining"] == 3
    assert take(ctx_of(client), "duplicate")["id"] == record["id"]
    assert client.get("/_mock/faults").json()[0]["remaining"] == 2


def test_faults_survive_a_restart_with_state(tmp_path: Any) -> None:
    settings = make_settings(state_path=str(tmp_path / "state.db"))
    with TestClient(create_app(settings), base_url=settings.base_url) as first:
        record = inject(first, kind="route", path="/documents", status=500, count=3)
        assert first.get("/documents").status_code == 500
    with TestClient(create_app(settings), base_url=settings.base_url) as second:
        assert second.get("/_mock/faults").json() == [{**record, "remaining": 2}]
        assert second.get("/documents").status_code == 500


# -- route faults ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "path", "matches"),
    [
        ("/documents", "/documents", True),
        ("/documents", "/documents/abc/status", True),
        ("/documents/", "/documents/abc", True),
        ("/documents", "/documentsx", False),
        ("/documents", "/notes", False),
        ("/", "/anything", True),
    ],
)
def test_path_prefix_is_whole_segments(prefix: str, path: str, matches: bool) -> None:
    assert _path_matches(prefix, path) is matches


def test_route_status_for_the_next_n_requests(client: TestClient) -> None:
    record = inject(client, kind="route", path="/documents", status=503, count=2)
    for _ in range(2):
        response = client.get("/documents", params={"synchronized": "false"})
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["status"] == 503 and body["title"] == "Service Unavailable"
        assert record["id"] in body["detail"]
        assert response.headers["x-ratelimit-limit"] == "5000"
    assert client.get("/documents").status_code != 503
    assert client.get("/_mock/faults").json() == []
    journal = [e for e in ctx_of(client).store.journal if e["path"] == "/documents"]
    assert [e.get("fault") for e in journal] == [record["id"], record["id"], None]
    assert [e["status"] for e in journal[:2]] == [503, 503]


def test_route_method_filter_and_other_paths(client: TestClient) -> None:
    inject(client, kind="route", method="POST", path="/documents", status=500)
    assert client.get("/documents").status_code != 500
    assert client.get("/notes").status_code != 500
    assert client.post("/documents/x/status", json={"success": True}).status_code == 500


def test_route_fault_reaches_oauth_and_downloads_but_not_control(client: TestClient) -> None:
    inject(client, kind="route", path="/", status=502, count=3)
    assert client.get("/_mock/faults").status_code == 200
    assert client.post("/oauth2/token", json={"grant_type": "refresh_token"}).status_code == 502
    assert client.get("http://127.0.0.1:8766/askara-documents/x.pdf").status_code == 502  # the files origin
    assert client.get("/me").status_code == 502
    assert client.get("/_mock/faults").json() == []


def journal_of(client: TestClient, path: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = client.get("/_mock/journal", params={"path": path}).json()["entries"]
    return entries


def test_route_latency_is_real_time(client: TestClient) -> None:
    """Judged from the mock's own figures (the journal's ``latency_ms``), never from a stopwatch in
    the test: a loaded machine makes any request slow, but only the faulted one waited on purpose."""
    fault = inject(client, kind="route", path="/me", latency=0.05)
    before = ctx_of(client).clock.now()
    response = client.get("/me")
    assert response.status_code != 500
    assert ctx_of(client).clock.now() == before  # the mock clock did not move
    client.get("/me")
    first, second = journal_of(client, "/me")
    assert first["fault"] == fault["id"] and first["latency_ms"] >= 50
    assert "fault" not in second  # the fault was spent: the second answer did not wait


def test_route_latency_then_status(client: TestClient) -> None:
    fault = inject(client, kind="route", path="/notes", latency=0.05, status=504)
    assert client.get("/notes").status_code == 504
    (entry,) = journal_of(client, "/notes")
    assert entry["fault"] == fault["id"] and entry["status"] == 504 and entry["latency_ms"] >= 50


def test_route_429_carries_rate_limit_headers(client: TestClient) -> None:
    inject(client, kind="route", path="/documents", status=429, retry_after=120)
    response = client.get("/documents")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "120"
    assert response.headers["x-ratelimit-limit"] == "5000"
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert response.headers["x-ratelimit-reset"] == str(math.ceil(ctx_of(client).clock.now() + 120))
    assert len(response.headers.get_list("x-ratelimit-remaining")) == 1


def test_route_429_default_retry_after_is_the_refill_interval(app_client: Any) -> None:
    client = app_client(rate_limit_capacity=0, rate_limit_interval=60)
    inject(client, kind="route", path="/me", status=429)
    response = client.get("/me")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "60"
    assert response.headers["x-ratelimit-remaining"] == "0"


def test_route_401_has_a_bearer_challenge(client: TestClient) -> None:
    inject(client, kind="route", path="/me", status=401)
    response = client.get("/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_route_jsonld_clients_get_jsonld_errors(client: TestClient) -> None:
    inject(client, kind="route", path="/documents", status=500)
    response = client.get("/documents", headers={"accept": "application/ld+json"})
    assert response.status_code == 500
    assert response.json()["@type"] == "Error"


# -- immediate kinds ------------------------------------------------------------------------------


def test_expire_tokens_expires_every_issued_token(client: TestClient) -> None:
    ctx = ctx_of(client)
    token = access_token(client, "profile")
    ctx.tokens.verify_access(token)
    record = inject(client, kind="expire_tokens")
    assert record["remaining"] == 0
    assert client.get("/_mock/faults").json() == []
    with pytest.raises(Unauthorized, match="expired"):
        ctx.tokens.verify_access(token)
    response = client.get("/me", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 401
    fresh = access_token(client, "profile")  # same mock second, manual clock: still valid
    ctx.tokens.verify_access(fresh)


def test_drain_bucket_gives_429_with_retry_after(client: TestClient) -> None:
    token = access_token(client, "profile")
    headers = {"authorization": f"Bearer {token}"}
    assert client.get("/me", headers=headers).status_code != 429
    record = inject(client, kind="drain_bucket")
    assert record["params"] == {"client_id": "askara-mock-client"}
    response = client.get("/me", headers=headers)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["x-ratelimit-remaining"] == "0"
    ctx_of(client).clock.advance(int(response.headers["retry-after"]))
    assert client.get("/me", headers=headers).status_code != 429


def test_drain_bucket_of_another_client_leaves_ours(client: TestClient) -> None:
    inject(client, kind="drain_bucket", client_id="someone-else")
    token = access_token(client, "profile")
    assert client.get("/me", headers={"authorization": f"Bearer {token}"}).status_code != 429


# -- download and expired-link faults -------------------------------------------------------------


def test_download_hook_spends_uses_per_document(client: TestClient) -> None:
    hook = ctx_of(client).download_fault
    target, other = str(uuid.uuid4()), str(uuid.uuid4())
    inject(client, kind="download", mode="truncate", document=target, count=2)
    assert hook(other) == "ok"
    assert hook(target) == "truncate"
    assert hook(target) == "truncate"
    assert hook(target) == "ok"
    inject(client, kind="download", mode="error")
    assert hook(other) == "error"
    assert hook(other) == "ok"
    inject(client, kind="download", mode="error", status=503)
    assert hook(target) == "error_503"


def _validated(client: TestClient) -> dict[str, Any]:
    response = client.post("/_mock/documents", json={"validate": True})
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_download_error_and_truncate_through_the_pdf_route(client: TestClient) -> None:
    document = _validated(client)["document"]
    url = document["pdf"]["url"]
    inject(client, kind="download", mode="error", document=document["uuid"])
    assert client.get(url).status_code == 500
    inject(client, kind="download", mode="error", status=503)
    assert client.get(url).status_code == 503
    inject(client, kind="download", mode="truncate")
    cut = client.get(url)
    assert cut.status_code == 200
    assert len(cut.content) < int(cut.headers["content-length"])
    whole = client.get(url)
    assert whole.status_code == 200 and whole.content.startswith(b"%PDF")
    assert len(whole.content) == int(whole.headers["content-length"])


def test_expired_link_download_answers_403(client: TestClient) -> None:
    record = inject(client, kind="expired_link")
    answer = _validated(client)
    event = answer["event"]
    assert event["fault"] == record["id"]
    stale = event["payload"]["metadata"]["document"]["pdf"]["url"]
    assert client.get(stale).status_code == 403
    assert client.get(answer["document"]["pdf"]["url"]).status_code == 200  # a fresh read gives a good link


def _document_event(client: TestClient, file_name: str = "letter.pdf") -> tuple[dict[str, Any], dict[str, Any]]:
    ctx = ctx_of(client)
    document = {
        "uuid": str(uuid.uuid4()),
        "type": "referral_letter",
        "state": "verified",
        "pdf": {"fileName": file_name, "url": "http://127.0.0.1:8766/askara-documents/fresh"},
    }
    event = ctx.emit("new_document", "document", document, user_id="u", organization_id="o")
    return document, event


def test_expired_link_rewrites_the_next_document_events(client: TestClient) -> None:
    record = inject(client, kind="expired_link", count=1)
    document, event = _document_event(client)
    url = event["payload"]["metadata"]["document"]["pdf"]["url"]
    assert url != "http://127.0.0.1:8766/askara-documents/fresh"
    assert document["pdf"]["url"] == "http://127.0.0.1:8766/askara-documents/fresh"  # the resource is not mutated
    assert event["fault"] == record["id"]
    assert ctx_of(client).store.events.get(event["event_id"])["payload"]["metadata"]["document"]["pdf"]["url"] == url
    _, later = _document_event(client)
    assert later["payload"]["metadata"]["document"]["pdf"]["url"] == "http://127.0.0.1:8766/askara-documents/fresh"


def test_expired_link_skips_note_events(client: TestClient) -> None:
    inject(client, kind="expired_link")
    note = {"uuid": str(uuid.uuid4()), "type": "consultation_summary", "content": "x"}
    ctx_of(client).emit("new_note", "note", note, user_id="u", organization_id="o")
    assert len(client.get("/_mock/faults").json()) == 1


def test_download_delay_waits_real_time_then_serves_the_whole_pdf(client: TestClient) -> None:
    """Judged from the journal's ``latency_ms`` (the mock's own figure), never a stopwatch."""
    document = _validated(client)["document"]
    inject(client, kind="download", mode="delay", latency=0.05, document=document["uuid"])
    before = ctx_of(client).clock.now()
    slow = client.get(document["pdf"]["url"])
    assert slow.status_code == 200 and len(slow.content) == int(slow.headers["content-length"])
    assert ctx_of(client).clock.now() == before  # the mock clock did not move
    assert client.get("/_mock/faults").json() == []  # spent by that one download
    (entry,) = journal_of(client, urlsplit(document["pdf"]["url"]).path)
    assert entry["latency_ms"] >= 50 and entry["download_complete"]


def test_release_delays_ends_injected_waits_at_once() -> None:
    """Judged by the waits' own outcome (a 30 s wait done within 5 s), not by timing a short one."""
    delays = Delays()

    async def main() -> None:
        waiting = asyncio.create_task(delays.wait(30.0))
        await asyncio.sleep(0)  # it is waiting now
        assert delays.release() == 1
        await asyncio.wait_for(waiting, 5.0)
        assert delays.release() == 0

    asyncio.run(main())


def test_release_delays_disarms_the_delays_not_yet_spent(client: TestClient) -> None:
    document = _validated(client)["document"]
    delay = inject(client, kind="download", mode="delay", latency=30, document=document["uuid"])
    latency = inject(client, kind="route", path="/me", latency=30)
    failing = inject(client, kind="route", path="/me", latency=1, status=503)  # an error, not a pure delay
    record = inject(client, kind="release_delays")
    assert record["remaining"] == 0
    assert record["applied"] == {"released": 0, "disarmed": [delay["id"], latency["id"]]}
    assert [f["id"] for f in client.get("/_mock/faults").json()] == [failing["id"]]
    assert client.get(document["pdf"]["url"]).status_code == 200  # at once: its delay was disarmed
