"""The support page /_mock/ui: one self-contained HTML page over the control API."""

from __future__ import annotations

from starlette.testclient import TestClient


def test_ui_serves_the_page_with_every_section(client: TestClient) -> None:
    response = client.get("/_mock/ui")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for needle in ("Documents", "Deliveries", "Failure queue", "Status reports", "clock",
                   "Validate", "Synchronize", "Redeliver", "no deliveries yet",
                   "/_mock/deliveries", "/_mock/failures", "/_mock/status-reports", "/_mock/documents",
                   "Webhooks", "/_mock/webhooks", "hook.warnings", "Assumptions relied on", "/_mock/assumptions"):
        assert needle in page, needle
    assert "http://" not in page and "https://" not in page  # no CDN, nothing external


def test_mock_root_redirects_to_the_page(client: TestClient) -> None:
    response = client.get("/_mock", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/_mock/ui"
