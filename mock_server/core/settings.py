"""One frozen settings object, validated once; the CLI and tests build it, nothing else reads flags."""

from __future__ import annotations

import dataclasses
import re
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from mock_server.core.errors import ConfigError
from mock_server.core.vocabulary import CLOCK_MODES, REFRESH_REUSE_MODES, RETRY_COUNTS, RETRY_READINGS


@dataclass(frozen=True)
class Settings:
    """Everything that shapes one mock; defaults are Askara's documented numbers."""

    host: str = "127.0.0.1"
    port: int = 8765
    public_url: str | None = None
    """Base URL of the API written into Hydra ids and the OpenAPI document; defaults to http://host:port."""
    files_port: int | None = None
    """Port of the files origin (where pre-signed PDF links point); None: the API port + 1."""
    files_public_url: str | None = None
    """Base URL written into PDF links (scheme and host only); defaults to http://host:files_port."""
    files_bucket: str = "askara-documents"
    """The S3 bucket of the PDFs, first segment of a link's path (our guess: assumption ``files-bucket``)."""
    files_region: str = "eu-west-3"
    """The region links are signed for (our guess, Paris: assumption ``files-region``)."""

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
    """Secret access key signing the PDF links (SigV4); None: random per start. The key id derives from it."""
    auto_approve: bool = False
    """Skip the consent page of GET /authorize (headless use)."""

    access_token_ttl: int = 3600
    refresh_token_ttl: int = 30 * 24 * 3600
    authorization_code_ttl: int = 600
    device_code_ttl: int = 900
    device_poll_interval: int = 5
    device_interval: bool = False
    """Put ``interval`` in the device authorization answer (league omits it unless enabled)."""
    device_verification_uri_complete: bool = False
    """Put ``verification_uri_complete`` in the device authorization answer (league omits it unless enabled)."""
    refresh_reuse: str = "revoke-family"
    """What a spent refresh token presented again does: one of REFRESH_REUSE_MODES."""
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
    har_body_bytes: int = 4096
    """How much of each API request and answer body the journal keeps for the HAR transcript."""

    webhook_secret: str | None = None
    """None: deliveries are not signed (Askara documents no scheme)."""
    webhook_timeout: float = 5.0
    webhook_timeout_follows_clock: bool = False
    retry_delays: tuple[float, ...] = (5.0, 10.0, 20.0)
    retry_reading: str = "gaps"
    """``gaps``: each delay counts from the previous attempt (+5, +15, +35 s); ``offsets``: from the first (+5, +10).

    Both readings of the guide's "after 5 s, 10 s, 20 s" (``docs/assumptions.md#retry-schedule``)."""
    retry_count: str = "retries"
    """``retries``: one retry per delay after the first attempt; ``attempts``: as many attempts in all as delays."""
    batch_window: float = 0.0
    """Seconds of mock time a webhook gathers events into one delivery; 0 sends each alone."""
    webhook_urls: tuple[str, ...] = ()
    """``serve --webhook-url``: webhooks of the seeded organization for every event, registered at
    start (and again after ``POST /_mock/reset``) as ``POST /webhooks`` would create them."""

    documented_only: bool = False
    """Serve only what Askara documents: invented operations answer as unknown routes, invented fields are left out."""

    state_path: str | None = None
    access_log: bool = False

    # -- connections (mock_server/web/connections.py; why these numbers: docs/assumptions.md#connection-limits)
    max_header_bytes: int = 65_536
    """Request line + headers beyond this: 431, connection closed."""
    header_timeout: float = 30.0
    """Seconds from a request's first byte to the end of its headers; beyond: 408, connection closed."""
    keep_alive_timeout: float = 5.0
    """Seconds an idle connection (just opened, or between requests) stays open (uvicorn's default)."""
    max_connections: int = 1000
    """Open connections over both origins; a request beyond them is answered 503 (uvicorn's limit_concurrency)."""

    # -- TLS and the control guard (mock_server/core/tls.py, mock_server/control/guard.py)
    tls: bool = False
    """Serve the API and the files origin over HTTPS (a certificate the mock issues unless ``tls_cert``)."""
    tls_cert: str | None = None
    """PEM certificate chain to serve instead of the generated one (with ``tls_key``; implies ``tls``)."""
    tls_key: str | None = None
    tls_dir: str | None = None
    """Where the generated CA and certificate are written (the CA is reused if there); None: a fresh temp dir."""
    webhook_ca: str | None = None
    """PEM CA file the sender trusts for https receivers, on top of the system store."""
    control_token: str | None = None
    """Bearer token the control API asks for; None: none on loopback, a random one when bound beyond it."""
    extra: dict[str, object] = field(default_factory=dict)
    _files_port_given: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._check_connections()
        self._check_files_origin()
        if self.clock not in CLOCK_MODES:
            raise ConfigError(f"clock must be one of {', '.join(CLOCK_MODES)}; got {self.clock!r}")
        if self.time_scale <= 0:
            raise ConfigError(f"time_scale must be > 0; got {self.time_scale!r}")
        if self.refresh_reuse not in REFRESH_REUSE_MODES:
            modes = ", ".join(REFRESH_REUSE_MODES)
            raise ConfigError(f"refresh_reuse must be one of {modes}; got {self.refresh_reuse!r}")
        if self.clock == "real" and self.time_scale != 1.0:
            object.__setattr__(self, "clock", "scaled")
        for name in ("rate_limit_capacity", "rate_limit_refill", "seed_patients", "seed_documents", "seed_notes"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0; got {getattr(self, name)!r}")
        if self.rate_limit_interval <= 0:
            raise ConfigError(f"rate_limit_interval must be > 0; got {self.rate_limit_interval!r}")
        if self.webhook_timeout <= 0:
            raise ConfigError(f"webhook_timeout must be > 0; got {self.webhook_timeout!r}")
        if self.retry_reading not in RETRY_READINGS:
            raise ConfigError(f"retry_reading must be one of {', '.join(RETRY_READINGS)}; got {self.retry_reading!r}")
        if self.retry_count not in RETRY_COUNTS:
            raise ConfigError(f"retry_count must be one of {', '.join(RETRY_COUNTS)}; got {self.retry_count!r}")
        if any(delay < 0 for delay in self.retry_delays):
            raise ConfigError(f"retry_delays must be >= 0; got {self.retry_delays!r}")
        if self.retry_reading == "offsets" and list(self.retry_delays) != sorted(self.retry_delays):
            raise ConfigError(f"retry_delays read as offsets must not decrease; got {self.retry_delays!r}")
        if not self.redirect_uris:
            raise ConfigError("at least one redirect URI must be registered")

    def _check_connections(self) -> None:
        if self.tls_cert or self.tls_key:
            if not (self.tls_cert and self.tls_key):
                raise ConfigError("tls_cert and tls_key go together (a PEM certificate chain and its private key)")
            object.__setattr__(self, "tls", True)
        for name in ("max_header_bytes", "max_connections", "header_timeout", "keep_alive_timeout"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be > 0; got {getattr(self, name)!r}")
        if self.max_header_bytes < 1024:
            raise ConfigError(f"max_header_bytes must be >= 1024 (a request line and a few headers); "
                              f"got {self.max_header_bytes!r}")
        if self.control_token is not None and not re.fullmatch(r"[A-Za-z0-9._~+/=-]{16,}", self.control_token):
            raise ConfigError("control_token must be at least 16 characters of a Bearer token (A-Z a-z 0-9 -._~+/=)")

    def _check_files_origin(self) -> None:
        object.__setattr__(self, "_files_port_given", self.files_port is not None)
        if self.files_port is None:
            object.__setattr__(self, "files_port", self.port + 1 if self.port else 0)
        if not 0 <= int(self.files_port or 0) <= 65535:
            raise ConfigError(f"files_port must be a TCP port (0-65535); got {self.files_port!r}")
        if self.port and self.files_port == self.port:
            raise ConfigError(f"the files origin needs a port of its own; files_port and port are both {self.port}")
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", self.files_bucket):
            raise ConfigError(
                f"files_bucket must be an S3 bucket name (3-63 of a-z 0-9 . -); got {self.files_bucket!r}"
            )
        if not re.fullmatch(r"[a-z0-9-]{1,32}", self.files_region):
            raise ConfigError(f"files_region must look like an AWS region (e.g. eu-west-3); got {self.files_region!r}")
        if self.files_public_url is not None:
            parts = urlsplit(self.files_public_url)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") or parts.query:
                raise ConfigError(
                    "files_public_url must be scheme and host only (e.g. http://files.example:8766), "
                    f"path-style links add the bucket; got {self.files_public_url!r}"
                )
            if self.public_url and urlsplit(self.public_url).netloc == parts.netloc:
                raise ConfigError(f"the files origin needs a host or port of its own; both URLs are {parts.netloc}")

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def loopback(self) -> bool:
        """Bound to this machine only: the control API is then open without a token."""
        return is_loopback(self.host)

    @property
    def advertised_host(self) -> str:
        """The host written into absolute URLs without a public URL: never a wildcard like 0.0.0.0."""
        return advertised_host(self.host)

    @property
    def base_url(self) -> str:
        return (self.public_url or f"{self.scheme}://{self.advertised_host}:{self.port}").rstrip("/")

    @property
    def files_base_url(self) -> str:
        """Where PDF links point: the files origin, as clients reach it."""
        return (self.files_public_url or f"{self.scheme}://{self.advertised_host}:{self.files_port}").rstrip("/")

    @property
    def rate_limit_enabled(self) -> bool:
        return self.rate_limit_capacity > 0

    def replace(self, **changes: object) -> Settings:
        """A copy with ``changes``; a files port that was derived from the port follows a new port."""
        if "port" in changes and "files_port" not in changes and not self._files_port_given:
            changes["files_port"] = None
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


WILDCARD_HOSTS = ("0.0.0.0", "", "::", "[::]")


def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1", "[::1]") or host.startswith("127.")


def advertised_host(host: str) -> str:
    """``host``, or for a wildcard bind this machine's name (what another machine would type)."""
    if host in WILDCARD_HOSTS:
        return socket.gethostname() or "localhost"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
