"""The support page /_mock/ui: static files over the control API (the browser tests drive it: test_ui_browser.py)."""

from __future__ import annotations

from starlette.testclient import TestClient

ASSETS = {"ui.css": "text/css", "ui.js": "text/javascript", "ui_timeline.js": "text/javascript"}


def test_ui_serves_the_page_with_every_section(client: TestClient) -> None:
    response = client.get("/_mock/ui")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for needle in ("Documents", "Delivery timeline", "Failure queue", "Status reports", "clock", "Webhooks",
                   "Assumptions relied on", "Edit and resend", "Export snapshot", "Export HAR", "Export bundle",
                   'href="/_mock/snapshot"', 'href="/_mock/har"', 'href="/_mock/bundle"', "/_mock/ui/ui.js"):
        assert needle in page, needle
    assert "http://" not in page and "https://" not in page  # no CDN, nothing external


def test_the_scripts_read_the_control_api_and_follow_the_stream(client: TestClient) -> None:
    script = ""
    for name, kind in ASSETS.items():
        answer = client.get(f"/_mock/ui/{name}")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind), name
        assert "http://" not in answer.text and "https://" not in answer.text, name
        script += answer.text
    for needle in ("Validate", "Synchronize", "Redeliver", "no deliveries yet", "/_mock/timeline", "/_mock/failures",
                   "/_mock/status-reports", "/_mock/documents", "/_mock/webhooks", "hook.warnings",
                   "/_mock/assumptions", 'new EventSource("/_mock/stream")', "/send", "lastError"):
        assert needle in script, needle
    assert "setInterval" not in script  # live updates come from the stream, not from polling


def test_an_unknown_asset_is_a_problem_404(client: TestClient) -> None:
    answer = client.get("/_mock/ui/secrets.txt")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "ui.js" in answer.json()["detail"]


def test_mock_root_redirects_to_the_page(client: TestClient) -> None:
    response = client.get("/_mock", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/_mock/ui"
