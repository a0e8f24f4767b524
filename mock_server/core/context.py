"""The per-app bundle of collaborators (no globals): settings, clock, timers, store, tokens...

``create_app`` builds one :class:`MockContext` and hangs it on ``app.state.mock``; endpoints
reach it through ``request.app.state.mock``. Two apps in one process share nothing.

Collaborators from higher layers (the sender, the fault hooks) are typed fields that their
``install`` functions fill; :meth:`MockContext.check_wired` is called once everything is
installed, so a missing wire-up fails at start-up with its name, never as a silent no-op.
"""

from __future__ import annotations

import secrets
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mock_server.core.assumptions import AssumptionUsage
from mock_server.core.changes import Changes
from mock_server.core.clock import Timers
from mock_server.core.clock_state import ClockKeeper, restore_clock
from mock_server.core.errors import ConfigError
from mock_server.core.ratelimit import RateLimiter
from mock_server.core.secrets import access_key_id, new_s3_secret, new_webhook_secret, persisted
from mock_server.core.settings import Settings
from mock_server.core.store import Record, SqliteBackend, Store
from mock_server.core.tokens import TokenService
from mock_server.core.vocabulary import FAULT_KINDS

if TYPE_CHECKING:  # types of higher layers' collaborators; the layers import this module, not the reverse
    from mock_server.domain.datagen import DataGen
    from mock_server.faults.api import RouteFaults
    from mock_server.sender.dispatch import WebhookSender

EventListener = Callable[[Record], Awaitable[None] | None]
Hook = Callable[[], Awaitable[None]]
FaultHandler = Callable[["MockContext", dict[str, Any]], dict[str, Any]]
CLOSING_STATE = "askara_mock.closing"
"""The lifespan state key of :meth:`MockContext.closing`, which the server's connections call as it stops."""


@dataclass
class Caches:
    """Memos that make reads cheap; each is a pure function of the store, so clearing is always safe."""

    served_documents: OrderedDict[str, tuple[Any, ...]] = field(default_factory=OrderedDict)
    """document uuid -> (``id`` of the record, store stamp, served values without the link); least recently
    served first (``domain/documents.py``)."""
    list_bodies: dict[Any, Any] = field(default_factory=dict)
    """A collection's rendered body per (query, table version, link-expiry second)."""
    signed_urls: dict[tuple[str, str, int], str] = field(default_factory=dict)
    pdfs: OrderedDict[tuple[Any, ...], bytes] = field(default_factory=OrderedDict)

    def clear(self) -> None:
        for memo in (self.served_documents, self.list_bodies, self.signed_urls, self.pdfs):
            memo.clear()


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
                "exchanges": settings.journal_limit,
                "actions": settings.journal_limit,
                "status_reports": settings.journal_limit,
                "deliveries": settings.delivery_limit,
                "events": settings.delivery_limit,
            },
        )
        self.clock = restore_clock(settings, self.store)
        self.changes = Changes()
        """Bumped by every store write and clock jump; the web page's live stream waits on it."""
        self.store.watch(self.changes.bump)
        self.clock.on_advance(self.changes.bump)
        self.timers = Timers(self.clock)
        self.client_secret = settings.client_secret or persisted(self.store, "client_secret", secrets.token_urlsafe(32))
        self.url_signing_secret = settings.url_signing_secret or persisted(
            self.store, "url_signing_secret", new_s3_secret()
        )
        """The secret access key of the S3 key that signs PDF links (SigV4)."""
        self.s3_access_key_id = access_key_id(self.url_signing_secret)
        self.webhook_secret = settings.webhook_secret
        self.tokens = TokenService(settings, self.clock, self.store)
        self.rate_limiter = RateLimiter(settings, self.clock)
        self._journal_seq = _max_journal_id(self.store)
        self.caches = Caches()
        self.data_gen: DataGen | None = None
        """The seeded generator (:mod:`mock_server.domain.datagen` makes it on first use)."""
        self.story_start: dict[str, Any] | None = None
        """The snapshot at the story's start (start-up, a reset, a loaded snapshot), the one a bundle
        carries; None while none was taken or when the state was too big to keep a copy of."""
        # Hooks the layers above register in; run in registration order.
        self.event_listeners: list[EventListener] = []
        self.event_transforms: list[Callable[[Record], None]] = []
        """Change an event before it is stored and sent (fault kinds such as ``expired_link``)."""
        self.assumption_usage = AssumptionUsage()
        """Which assumptions answers rested on since start (``GET /_mock/assumptions``); reset clears it."""
        self.reset_hooks: list[Callable[[], None]] = [self.assumption_usage.clear]
        self.startup_hooks: list[Hook] = []
        self.shutdown_hooks: list[Hook] = []
        self.closing_hooks: list[Callable[[], None]] = [self.changes.close]
        """Run as the server starts to stop, before it waits for open responses (ends live streams)."""
        self.fault_kinds: dict[str, FaultHandler] = {}
        """Fault kind -> handler that checks a ``POST /_mock/faults`` body (see :mod:`mock_server.faults`)."""
        if settings.state_path:  # the clock's position survives a restart (core/clock_state.py)
            keeper = ClockKeeper(self.clock, self.store)
            self.startup_hooks.append(keeper.start)
            self.shutdown_hooks.append(keeper.stop)

    # Filled by the layers' install functions; reading one before it is installed raises AttributeError.
    sender: WebhookSender
    api_faults: RouteFaults
    download_fault: Callable[[str], Any]
    """``download_fault(document_uuid) -> "ok" | "error" | "error_503" | "truncate"`` (may be awaitable)."""

    def closing(self) -> None:
        """The server starts to stop: run the closing hooks (idempotent; before open responses are awaited)."""
        for hook in self.closing_hooks:
            hook()

    def check_wired(self) -> None:
        """Raise :class:`ConfigError` naming every collaborator or fault kind nobody installed."""
        missing = [name for name in ("sender", "api_faults", "download_fault") if not hasattr(self, name)]
        missing += [f"fault kind {kind!r}" for kind in FAULT_KINDS if kind not in self.fault_kinds]
        if missing:
            raise ConfigError("the mock is not fully wired: nothing installed " + ", ".join(missing))

    # -- secrets -------------------------------------------------------------------------------

    def ensure_webhook_secret(self) -> str:
        """The signing secret, generated when none is set; generating one turns signing on."""
        if not self.webhook_secret:
            self.webhook_secret = new_webhook_secret()
            if self.settings.state_path:
                self.store.meta.put("webhook_secret", {"value": self.webhook_secret})
        return self.webhook_secret

    def restore_webhook_secret(self) -> None:
        """A secret generated before a restart (``--state``) stays the secret."""
        if not self.webhook_secret:
            remembered = self.store.meta.get("webhook_secret")
            if remembered is not None:
                self.webhook_secret = str(remembered["value"])

    # -- events --------------------------------------------------------------------------------

    def emit(self, action: str, resource_type: str, resource: Record, *, user_id: str, organization_id: str) -> Record:
        """Record that ``action`` happened to ``resource`` and hand the event to the sender.

        The envelope's ``id`` is the resource uuid, as Askara's guides show; ``event_id`` is
        ours, unique per occurrence, so a re-validated document is a new event with the same id.
        """
        event: Record = {
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
        for transform in self.event_transforms:
            transform(event)
        self.store.events.put(event["event_id"], event)
        for listener in self.event_listeners:
            listener(event)
        return event

    # -- journal -------------------------------------------------------------------------------

    def next_journal_id(self) -> int:
        self._journal_seq += 1
        return self._journal_seq



def _max_journal_id(store: Store) -> int:
    return max((int(r["id"]) for r in store.journal), default=0)
