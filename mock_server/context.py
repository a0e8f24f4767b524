"""The per-app bundle of collaborators (no globals): settings, clock, timers, store, tokens...

``create_app`` builds one :class:`MockContext` and hangs it on ``app.state.mock``; endpoints
reach it through ``request.app.state.mock``. Two apps in one process share nothing.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from mock_server.clock import Clock, Timers
from mock_server.oauth.tokens import TokenService
from mock_server.ratelimit import RateLimiter
from mock_server.settings import Settings
from mock_server.store import Record, SqliteBackend, Store

EventListener = Callable[[Record], Awaitable[None] | None]


class MockContext:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        backend = SqliteBackend(settings.state_path) if settings.state_path else None
        self.store = Store(
            backend,
            limits={
                # Everything that grows with traffic is bounded, so a mock left running for days
                # under load does not grow without end; what is dropped is counted (``dropped``).
                "journal": settings.journal_limit,
                "status_reports": settings.journal_limit,
                "deliveries": settings.delivery_limit,
                "events": settings.delivery_limit,
            },
        )
        self.clock = _make_clock(settings, self.store)
        self.timers = Timers(self.clock)
        self.clock.on_advance(self._remember_clock)
        self.client_secret = settings.client_secret or _persisted(
            self.store, "client_secret", secrets.token_urlsafe(32)
        )
        self.url_signing_secret = settings.url_signing_secret or _persisted(
            self.store, "url_signing_secret", secrets.token_hex(32)
        )
        self.webhook_secret = settings.webhook_secret
        self.tokens = TokenService(settings, self.clock, self.store)
        self.rate_limiter = RateLimiter(settings, self.clock)
        self.event_listeners: list[EventListener] = []
        self.extensions: dict[str, Any] = {}
        self._journal_seq = _max_journal_id(self.store)

    # -- events --------------------------------------------------------------------------------

    def emit(self, action: str, resource_type: str, resource: Record, *, user_id: str, organization_id: str) -> Record:
        """Record that ``action`` happened to ``resource`` and hand the event to the sender.

        The envelope's ``id`` is the resource uuid, as Askara's guides show; ``event_id`` is
        ours, unique per occurrence, so a re-validated document is a new event with the same id.
        """
        event = {
            "event_id": "evt_" + uuid.uuid4().hex,
            "at": self.clock.now(),
            "payload": {
                "id": resource["uuid"],
                "resource_type": resource_type,
                "action": action,
                "metadata": {resource_type: resource},
                "resource_metadata": {"user_id": user_id, "organization_id": organization_id},
            },
        }
        for transform in self.extensions.get("event_transforms", []):
            transform(event)
        self.store.events.put(event["event_id"], event)
        for listener in self.event_listeners:
            listener(event)
        return event

    # -- journal -------------------------------------------------------------------------------

    def next_journal_id(self) -> int:
        self._journal_seq += 1
        return self._journal_seq

    def _remember_clock(self) -> None:
        if self.settings.state_path and self.clock.mode == "manual":
            self.store.meta.put("manual_clock", {"now": self.clock.now()})


def _make_clock(settings: Settings, store: Store) -> Clock:
    start = settings.clock_start
    if settings.clock == "manual":
        remembered = store.meta.get("manual_clock")
        if remembered is not None:
            start = remembered["now"]
        elif start is None:
            start = float(int(Clock().now()))
    return Clock(settings.clock, scale=settings.time_scale, start=start)  # type: ignore[arg-type]


def _persisted(store: Store, name: str, fresh: str) -> str:
    """A secret kept across restarts when ``--state`` is used (a restart must not break old links)."""
    record = store.meta.get(name)
    if record is not None:
        return str(record["value"])
    if isinstance(store.backend, SqliteBackend):
        store.meta.put(name, {"value": fresh})
    return fresh


def _max_journal_id(store: Store) -> int:
    return max((int(r["id"]) for r in store.journal), default=0)
