"""The reference integration's Askara API client: rotating refresh tokens, 401 / 429 / 5xx handling.

Everything Askara's guides ask of a client lives here once, so the importer and the poller only
say what they want: refresh on 401 and keep the NEWEST refresh token (they are single-use), wait
as the rate-limit headers say, retry a 5xx twice with a short backoff. One token store serves
every worker: league revokes the old access token on each refresh, so a worker that kept its own
copy would present a revoked token.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.utils
import json
import logging
import os
import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx
from ref_defects import Defects
from ref_state import TokenFile

log = logging.getLogger("reference")

RATE_LIMIT_WAIT_CAP = 120.0
"""Longest real-time wait for one 429 or an empty bucket (the brief's cap)."""
RATE_LIMITED_TRIES = 10
"""A correct client waits between tries, so a few are plenty."""
HAMMER_TRIES = 50
"""The ``hammer-429`` defect is bounded so a broken run still ends."""
SERVER_ERROR_RETRIES = 2
BACKOFF = 0.2
NARROW_SCOPE = "read:documents"
SHORT_COLUMN = 255
"""The ``short-token-column`` defect stores refresh tokens as a VARCHAR(255) column would."""
CURRENT_WORKER: ContextVar[str | None] = ContextVar("reference_worker", default=None)
"""The receiver worker running the current task (set by :meth:`AskaraApi.start_worker`)."""
ENV_VARS = ("ASKARA_API_URL", "ASKARA_CLIENT_ID", "ASKARA_CLIENT_SECRET", "ASKARA_REFRESH_TOKEN")


class ApiError(Exception):
    """An API call that could not be made to succeed; the message says what went wrong."""


@dataclass(frozen=True)
class Credentials:
    api_url: str
    client_id: str
    client_secret: str
    refresh_token: str
    webhook_secret: str | None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Credentials:
        env = os.environ if env is None else env
        missing = [name for name in ENV_VARS if not env.get(name)]
        if missing:
            raise ValueError(f"missing environment variable(s): {', '.join(missing)} (the harness sets them)")
        return cls(
            api_url=env["ASKARA_API_URL"].rstrip("/"),
            client_id=env["ASKARA_CLIENT_ID"],
            client_secret=env["ASKARA_CLIENT_SECRET"],
            refresh_token=env["ASKARA_REFRESH_TOKEN"],
            webhook_secret=env.get("ASKARA_WEBHOOK_SECRET") or None,
        )


def _jwt_iat(token: str) -> float | None:
    """The ``iat`` claim, read without verifying: only to learn how far the mock's clock is from ours."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["iat"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


class RateGate:
    """Holds every request back until the server said the bucket has refilled."""

    def __init__(self, defects: Defects) -> None:
        self.defects = defects
        self.not_before = 0.0  # time.monotonic()
        self.server_offset = 0.0  # server clock minus ours, learnt from token iat (a manual mock clock differs)

    async def wait(self) -> None:
        delay = self.not_before - time.monotonic()
        if delay > 0 and not self.defects.on("hammer-429"):
            log.info("rate limit: waiting %.1f s before the next API call", delay)
            await asyncio.sleep(delay)

    def _until_reset(self, headers: httpx.Headers) -> float | None:
        try:
            reset = float(headers["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return None
        return reset - (time.time() + self.server_offset)

    def retry_after(self, response: httpx.Response) -> float:
        """Seconds to wait after a 429: Retry-After, else x-ratelimit-reset, else 1 s; capped."""
        value = response.headers.get("retry-after")
        wait: float | None = None
        if value is not None:
            try:
                wait = float(value)
            except ValueError:
                when = email.utils.parsedate_to_datetime(value) if value.strip() else None
                wait = when.timestamp() - time.time() if when else None
        if wait is None:
            wait = self._until_reset(response.headers)
        wait = 1.0 if wait is None else wait
        return min(max(wait, 0.0), RATE_LIMIT_WAIT_CAP)

    def observe(self, response: httpx.Response) -> None:
        """After any answer: an empty bucket (remaining 0) means wait for the reset before the next call."""
        if response.status_code == 429:
            self.not_before = max(self.not_before, time.monotonic() + self.retry_after(response))
            return
        if response.headers.get("x-ratelimit-remaining", "").strip() == "0":
            wait = self._until_reset(response.headers)
            if wait is not None and wait > 0:
                self.not_before = max(self.not_before, time.monotonic() + min(wait, RATE_LIMIT_WAIT_CAP))


class AskaraApi:
    """Bearer-authenticated calls to ``ASKARA_API_URL`` with Askara's retry rules."""

    def __init__(
        self, http: httpx.AsyncClient, credentials: Credentials, defects: Defects, saved: TokenFile | None = None
    ) -> None:
        self.http = http
        self.credentials = credentials
        self.defects = defects
        self.gate = RateGate(defects)
        self.saved = saved
        self.original_refresh_token = credentials.refresh_token
        self.refresh_token = saved.load() if saved is not None else credentials.refresh_token
        self.access_token: str | None = None
        self.refreshes = 0
        self._lock = asyncio.Lock()
        self._worker_tokens: dict[str, str] = {}
        """Only with ``stale-token-after-refresh``: each worker's own cached access token."""

    # -- tokens ------------------------------------------------------------------------------------

    async def token(self) -> str:
        if self.access_token is None:
            return await self.refresh(stale=None)
        return self.access_token

    async def refresh(self, stale: str | None) -> str:
        """Spend the newest refresh token for a new pair; callers racing on one 401 refresh once."""
        uncoordinated = self.defects.on("uncoordinated-refresh")
        async with contextlib.nullcontext() if uncoordinated else self._lock:
            if not uncoordinated and self.access_token is not None and self.access_token != stale:
                return self.access_token
            spent = self.original_refresh_token if self.defects.on("reuse-refresh-token") else self.refresh_token
            if self.defects.on("corrupt-refresh-token"):
                spent = spent[:-1] + ("A" if spent[-1:] != "A" else "B")
            body: dict[str, str] = {
                "grant_type": "refresh_token",
                "refresh_token": spent,
                "client_id": self.credentials.client_id,
                "client_secret": self.credentials.client_secret,
            }
            if self.defects.on("narrow-scope"):
                body["scope"] = NARROW_SCOPE
            response = await self._send("POST", "/oauth2/token", json_body=body, token=None)
            try:
                answer: dict[str, Any] = response.json()
            except ValueError:
                answer = {}
            if response.status_code != 200 or not answer.get("access_token"):
                reason = answer.get("error_description") or answer.get("error") or response.text[:200]
                raise ApiError(f"token refresh failed: HTTP {response.status_code} ({reason})")
            self.access_token = str(answer["access_token"])
            if answer.get("refresh_token"):
                self.refresh_token = str(answer["refresh_token"])  # single-use: only the newest one is valid
                if self.defects.on("short-token-column"):
                    self.refresh_token = self.refresh_token[:SHORT_COLUMN]
                if self.saved is not None:
                    self.saved.save(self.refresh_token)
            iat = _jwt_iat(self.access_token)
            if iat is not None:
                self.gate.server_offset = iat - time.time()
            self.refreshes += 1
            log.info("token: refreshed (#%d), keeping the new refresh token", self.refreshes)
            return self.access_token

    # -- calls -------------------------------------------------------------------------------------

    async def start_worker(self, name: str) -> None:
        """A receiver worker starts; with ``stale-token-after-refresh`` it takes its own token copy now."""
        CURRENT_WORKER.set(name)
        if self.defects.on("stale-token-after-refresh"):
            try:
                self._worker_tokens[name] = await self.token()
            except ApiError as exc:
                log.info("token: %s could not take a token at start: %s", name, exc)

    async def _token_for(self, worker: str | None) -> str:
        """The shared newest token (correct); with the defect, the worker's own cached copy."""
        if worker is not None and worker in self._worker_tokens:
            return self._worker_tokens[worker]
        return await self.token()

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str | int] | None = None,
        accept: str = "application/json",
    ) -> httpx.Response:
        """An authenticated call; 401 → refresh once and retry. Other 4xx are returned to the caller.

        A 401 for a token another worker already replaced picks up the newer token without
        spending a refresh token; only a refresh made by this call counts as "refreshed".
        """
        refreshed = False
        worker = CURRENT_WORKER.get()
        token = await self._token_for(worker)
        for _ in range(4):
            response = await self._send(method, path, json_body=json_body, params=params, token=token, accept=accept)
            if response.status_code != 401:
                return response
            if self.defects.on("no-refresh"):
                raise ApiError(f"{method} {path}: HTTP 401 and this integration does not refresh tokens")
            if refreshed:
                raise ApiError(f"{method} {path}: HTTP 401 even after refreshing the access token")
            log.info("token: %s %s answered 401, refreshing", method, path)
            before = self.refreshes
            token = await self.refresh(stale=token)
            refreshed = self.refreshes > before
            if worker is not None and worker in self._worker_tokens:
                self._worker_tokens[worker] = token
        raise ApiError(f"{method} {path}: HTTP 401 on every token tried")

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any,
        token: str | None,
        params: Mapping[str, str | int] | None = None,
        accept: str = "application/json",
    ) -> httpx.Response:
        """One logical request: waits on 429 as the headers say, retries 5xx / network errors twice."""
        url = self.credentials.api_url + path
        headers = {"Accept": accept}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        limited = failures = 0
        hammer = self.defects.on("hammer-429")
        while True:
            await self.gate.wait()
            started = time.monotonic()
            try:
                response = await self.http.request(method, url, json=json_body, params=params, headers=headers)
            except httpx.TransportError as exc:
                failures += 1
                log.info("api: %s %s failed: %s (try %d)", method, path, type(exc).__name__, failures)
                if failures > SERVER_ERROR_RETRIES:
                    raise ApiError(f"{method} {path}: {type(exc).__name__}: {exc}") from None
                await asyncio.sleep(BACKOFF * failures)
                continue
            log.info(
                "api: %s %s -> %d (%.0f ms)", method, path, response.status_code, 1000 * (time.monotonic() - started)
            )
            if not hammer:
                self.gate.observe(response)
            if self.defects.on("give-up-on-transient") and (response.status_code == 429 or response.status_code >= 500):
                raise ApiError(f"{method} {path}: HTTP {response.status_code}, not retried")
            if response.status_code == 429:
                limited += 1
                if limited >= (HAMMER_TRIES if hammer else RATE_LIMITED_TRIES):
                    raise ApiError(f"{method} {path}: still HTTP 429 after {limited} tries")
                if not hammer:
                    log.info("rate limit: 429, waiting %.1f s as the server says", self.gate.retry_after(response))
                continue
            if response.status_code >= 500:
                failures += 1
                if failures > SERVER_ERROR_RETRIES:
                    raise ApiError(f"{method} {path}: HTTP {response.status_code} after {failures} tries")
                await asyncio.sleep(BACKOFF * failures)
                continue
            return response
