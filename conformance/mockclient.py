"""A small synchronous client of a running mock: its control API and the bits of the public API
the harness needs (registering the integration's webhook). The harness never reaches into the
mock's memory: everything it judges, it read here, over HTTP, like a support engineer would."""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from conformance.observation import HARNESS_USER_AGENT

WEBHOOK_SCOPES = "organization"
CONTROL_TOKEN_ENV = "ASKARA_MOCK_CONTROL_TOKEN"


class MockError(Exception):
    """The mock answered something the harness cannot work with."""


class MockClient:
    def __init__(
        self, base_url: str, *, timeout: float = 10.0, control_token: str | None = None, ca_file: str | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.control_token = control_token or os.environ.get(CONTROL_TOKEN_ENV)
        """A mock bound beyond loopback asks for it on /_mock (its banner prints it)."""
        self.http = httpx.Client(
            base_url=self.base_url, timeout=timeout, headers={"User-Agent": f"{HARNESS_USER_AGENT}/1.0"},
            verify=ssl.create_default_context(cafile=ca_file) if ca_file else True,
            event_hooks={"request": [self._authorize]},
        )

    def _authorize(self, request: httpx.Request) -> None:
        if self.control_token and request.url.path.startswith("/_mock") and "authorization" not in request.headers:
            request.headers["Authorization"] = f"Bearer {self.control_token}"

    def close(self) -> None:
        self.http.close()

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise MockError(
                f"{response.request.method} {response.request.url.path} → {response.status_code}: {response.text[:500]}"
            )
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self._json(self.http.get(path, params={k: v for k, v in params.items() if v is not None}))

    def post(self, path: str, body: Any = None) -> Any:
        return self._json(self.http.post(path, json=body if body is not None else {}))

    def delete(self, path: str) -> Any:
        return self._json(self.http.delete(path))

    # -- control API ---------------------------------------------------------------------------

    def credentials(self, scope: str | None = None) -> dict[str, Any]:
        return self.get("/_mock/credentials", scope=scope)

    def advance(self, seconds: float) -> dict[str, Any]:
        return self.post("/_mock/clock/advance", {"seconds": seconds})

    def clock(self) -> dict[str, Any]:
        return self.get("/_mock/clock")

    def list_of(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """A control-API listing, whether it answers a bare array or ``{"items"|"entries": [...]}``."""
        answer = self.get(path, **params)
        if isinstance(answer, dict):
            answer = answer.get("items", answer.get("entries", []))
        return list(answer)

    def journal(self, since: int = 0) -> list[dict[str, Any]]:
        return self.list_of("/_mock/journal", since=since, limit=100_000)

    def deliveries(self) -> list[dict[str, Any]]:
        return self.list_of("/_mock/deliveries", limit=100_000)

    def status_reports(self) -> list[dict[str, Any]]:
        return self.list_of("/_mock/status-reports")

    def events(self) -> list[dict[str, Any]]:
        return self.list_of("/_mock/events")

    def send_raw(self, webhook_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
        """Deliver an arbitrary ``events[]`` to a webhook (unknown actions, unusual payloads)."""
        return self.post(f"/_mock/webhooks/{webhook_id}/send", {"events": events})

    def fault(self, kind: str, **params: Any) -> dict[str, Any]:
        return self.post("/_mock/faults", {"kind": kind, **params})

    def clear_faults(self) -> None:
        self.delete("/_mock/faults")

    # -- public API, as the integration's organization admin -----------------------------------

    def access_token(self, scope: str) -> str:
        creds = self.credentials(scope=scope)
        answer = self.http.post(
            "/oauth2/token",
            json={
                "grant_type": "refresh_token",
                "refresh_token": creds["refresh_token"],
                "client_id": creds["client_id"],
                "client_secret": creds["client_secret"],
            },
        )
        return str(self._json(answer)["access_token"])

    def register_webhook(self, url: str, events: list[str]) -> dict[str, Any]:
        token = self.access_token(WEBHOOK_SCOPES)
        answer = self.http.post(
            "/webhooks",
            json={"url": url, "events": events, "active": True},
            headers={"Authorization": f"Bearer {token}"},
        )
        return self._json(answer)

    def set_webhook_active(self, webhook_id: str, active: bool) -> dict[str, Any]:
        """Pause or resume a webhook (``PATCH /webhooks/{uuid}``): a paused one is sent nothing."""
        token = self.access_token(WEBHOOK_SCOPES)
        answer = self.http.patch(
            f"/webhooks/{webhook_id}",
            content=json.dumps({"active": active}),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/merge-patch+json"},
        )
        return self._json(answer)

    @contextmanager
    def webhook_paused(self, webhook_id: str | None) -> Iterator[None]:
        """The webhook is inactive inside the block, so what the mock emits then reaches no one.

        Askara has documents an integration was never told about (validated before it subscribed);
        the harness makes them by validating with the webhook paused.
        """
        if webhook_id is not None:
            self.set_webhook_active(webhook_id, False)
        try:
            yield
        finally:
            if webhook_id is not None:
                self.set_webhook_active(webhook_id, True)

    def webhooks(self) -> list[dict[str, Any]]:
        token = self.access_token(WEBHOOK_SCOPES)
        answer = self.http.get("/webhooks", headers={"Authorization": f"Bearer {token}"})
        return list(self._json(answer))
