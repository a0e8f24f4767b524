"""One frozen settings object, validated once; the CLI and tests build it, nothing else reads flags."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from mock_server.core.errors import ConfigError

CLOCK_MODES = ("real", "scaled", "manual")
EVENT_NAMES = ("new_document", "document_synchronize", "new_note")


@dataclass(frozen=True)
class Settings:
    """Everything that shapes one mock; defaults are Askara's documented numbers."""

    host: str = "127.0.0.1"
    port: int = 8765
    public_url: str | None = None
    """Base URL written into PDF links and Hydra ids; defaults to http://host:port."""

    seed: int = 1
    seed_patients: int = 8
    seed_documents: int = 12
    seed_notes: int = 6

    clock: str = "real"
    time_scale: float = 1.0
    clock_start: float | None = None
    """Epoch seconds the mock clock starts at; None means the real time at start-up."""

    client_id: str = "askara-mock-client"
    client_secret: str | None = None
    """None: a random secret per start, shown by GET /_mock/credentials."""
    redirect_uris: tuple[str, ...] = ("http://127.0.0.1:8000/callback",)
    signing_key_pem: str | None = None
    """RS256 private key for access tokens (PEM); None: a fresh key per start."""
    url_signing_secret: str | None = None
    """HMAC key for pre-signed PDF links; None: random per start."""
    auto_approve: bool = False
    """Skip the consent page of GET /authorize (headless use)."""

    access_token_ttl: int = 3600
    refresh_token_ttl: int = 30 * 24 * 3600
    authorization_code_ttl: int = 600
    device_code_ttl: int = 900
    device_poll_interval: int = 5
    pdf_url_ttl: int = 3600
    sync_cooldown: int = 30

    rate_limit_capacity: int = 5000
    rate_limit_refill: int = 500
    rate_limit_interval: int = 900
    """Seconds between refills of ``rate_limit_refill`` tokens.

    Capacity 0 turns the limit off; refill 0 never refills."""

    me_accepts_post: bool = False
    """Answer POST /me like GET (the quickstart's curl); by default 405, as the API reference has GET only."""

    max_body_bytes: int = 1_048_576
    journal_limit: int = 10_000
    delivery_limit: int = 10_000
    recorded_body_bytes: int = 1024

    webhook_secret: str | None = None
    """None: deliveries are not signed (Askara documents no scheme)."""
    webhook_timeout: float = 5.0
    webhook_timeout_follows_clock: bool = False
    retry_delays: tuple[float, ...] = (5.0, 10.0, 20.0)
    batch_window: float = 0.0
    """Seconds of mock time a webhook gathers events into one delivery; 0 sends each alone."""

    state_path: str | None = None
    access_log: bool = False
    extra: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.clock not in CLOCK_MODES:
            raise ConfigError(f"clock must be one of {', '.join(CLOCK_MODES)}; got {self.clock!r}")
        if self.time_scale <= 0:
            raise ConfigError(f"time_scale must be > 0; got {self.time_scale!r}")
        if self.clock == "real" and self.time_scale != 1.0:
            object.__setattr__(self, "clock", "scaled")
        for name in ("rate_limit_capacity", "rate_limit_refill", "seed_patients", "seed_documents", "seed_notes"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0; got {getattr(self, name)!r}")
        if self.rate_limit_interval <= 0:
            raise ConfigError(f"rate_limit_interval must be > 0; got {self.rate_limit_interval!r}")
        if self.webhook_timeout <= 0:
            raise ConfigError(f"webhook_timeout must be > 0; got {self.webhook_timeout!r}")
        if not self.redirect_uris:
            raise ConfigError("at least one redirect URI must be registered")

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def rate_limit_enabled(self) -> bool:
        return self.rate_limit_capacity > 0

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
