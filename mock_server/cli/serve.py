"""``askara-mock serve``: build the mock from the command line's settings and run it under uvicorn."""

from __future__ import annotations

import functools
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
import orjson
import uvicorn

from mock_server.api.webhooks import register_start_webhooks
from mock_server.app import create_app
from mock_server.cli import banner
from mock_server.cli.snapshot_file import read_snapshot_file, write_atomically
from mock_server.control import snapshot as state_snapshot
from mock_server.control.guard import with_control_token
from mock_server.core import snapshot as snapshot_format
from mock_server.core.context import MockContext
from mock_server.core.errors import ConfigError, ProblemError
from mock_server.core.settings import Settings
from mock_server.core.vocabulary import CLOCK_MODES, REFRESH_REUSE_MODES, RETRY_COUNTS, RETRY_READINGS
from mock_server.serving import bind_sockets, tls_files, tune_gc, uvicorn_config


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind; loopback unless you mean it.")
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--public-url", default=None, help="Base URL of the API in Hydra ids and /openapi.json "
              "(default http://HOST:PORT).")
@click.option("--files-port", default=None, type=int,
              help="Port of the files origin, where pre-signed PDF links point (default PORT + 1).")
@click.option("--files-public-url", default=None,
              help="Base URL written into PDF links, scheme and host only (default http://HOST:FILES_PORT).")
@click.option("--seed", default=1, show_default=True, type=int, help="Seed of every generated value.")
@click.option("--documents", "seed_documents", default=Settings.seed_documents, show_default=True,
              type=click.IntRange(min=0), help="Validated documents to seed (100000: a backlog, in about a second).")
@click.option("--notes", "seed_notes", default=Settings.seed_notes, show_default=True, type=click.IntRange(min=0),
              help="Notes (with their audios) to seed.")
@click.option("--patients", "seed_patients", default=Settings.seed_patients, show_default=True,
              type=click.IntRange(min=0), help="Patients to seed; documents and notes are about them.")
@click.option("--clock", "clock_mode", type=click.Choice(CLOCK_MODES), default="real", show_default=True)
@click.option("--time-scale", default=1.0, show_default=True, type=float, help="Real seconds per mock second.")
@click.option("--clock-start", default=None, type=float, help="Mock epoch seconds at start (default: now).")
@click.option("--client-id", default="askara-mock-client", show_default=True)
@click.option("--client-secret", default=None, help="Default: random per start (see GET /_mock/credentials).")
@click.option("--redirect-uri", "redirect_uris", multiple=True, default=("http://127.0.0.1:8000/callback",),
              show_default=True, help="Registered redirect URI; repeat for several.")
@click.option("--signing-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="PEM RSA private key for access tokens (default: fresh per start).")
@click.option("--auto-approve/--no-auto-approve", default=False, show_default=True,
              help="Skip the consent page of /authorize (headless use).")
@click.option("--device-interval/--no-device-interval", default=False, show_default=True,
              help="Put 'interval' in the device authorization answer (league omits it: clients wait RFC 8628's 5 s).")
@click.option("--device-verification-uri-complete/--no-device-verification-uri-complete", default=False,
              show_default=True, help="Put 'verification_uri_complete' in the device authorization answer.")
@click.option("--refresh-reuse", type=click.Choice(REFRESH_REUSE_MODES), default="revoke-family", show_default=True,
              help="A spent refresh token presented again: revoke its whole family (Askara's theft signal) or "
              "only answer invalid_grant (league's default).")
@click.option("--me-accepts-post/--no-me-accepts-post", default=False, show_default=True,
              help="Answer POST /me like GET, as the quickstart calls it (the API reference has GET only: 405).")
@click.option("--rate-limit-capacity", default=5000, show_default=True, type=int, help="0 turns the limit off.")
@click.option("--rate-limit-refill", default=500, show_default=True, type=int)
@click.option("--rate-limit-interval", default=900, show_default=True, type=int, help="Seconds between refills.")
@click.option("--webhook-secret", default=None, help="Sign deliveries (Standard Webhooks) with this whsec_ secret, "
              "or 'generate' for a fresh one shown by GET /_mock/credentials; unsigned by default.")
@click.option("--webhook-timeout", default=5.0, show_default=True, type=float)
@click.option("--batch-window", default=0.0, show_default=True, type=float,
              help="Seconds a webhook gathers events into one delivery (0: one event per delivery).")
@click.option("--retry-reading", type=click.Choice(RETRY_READINGS), default="gaps", show_default=True,
              help="Read 'retries after 5 s, 10 s, 20 s' as gaps between attempts (+5, +15, +35 s) or as offsets "
              "from the first attempt (+5, +10, +20 s).")
@click.option("--retry-count", type=click.Choice(RETRY_COUNTS), default="retries", show_default=True,
              help="Read '(3 retries)' as three retries after the first attempt, or three attempts in all.")
@click.option("--documented-only/--no-documented-only", default=False, show_default=True,
              help="Serve only what Askara documents: invented operations (webhook list/read/update/delete, JWKS, "
              "...) answer as unknown routes and invented fields are left out (see GET /_mock/assumptions?all=true).")
@click.option("--state", "state_path", type=click.Path(dir_okay=False), default=None,
              help="Keep the whole state in this SQLite file; restart resumes pending retries.")
@click.option("--load", "load_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Start from this snapshot file (askara-mock snapshot save, GET /_mock/snapshot).")
@click.option("--save-on-exit", "save_path", type=click.Path(dir_okay=False), default=None,
              help="On a clean stop, write the state as a snapshot here (a failed save keeps the previous file).")
@click.option("--journal-limit", default=10_000, show_default=True, type=int)
@click.option("--delivery-limit", default=10_000, show_default=True, type=int)
@click.option("--access-log/--no-access-log", default=False, show_default=True)
# -- connections, TLS and the control guard (docs/assumptions.md#connection-limits, README "Serving over HTTPS") --
@click.option("--max-header-bytes", default=65_536, show_default=True, type=int,
              help="Request line + headers beyond this: 431.")
@click.option("--header-timeout", default=30.0, show_default=True, type=float,
              help="Seconds to finish a request's headers from its first byte; beyond: 408.")
@click.option("--keep-alive-timeout", default=5.0, show_default=True, type=float,
              help="Seconds an idle connection (new, or between requests) stays open.")
@click.option("--max-connections", default=1000, show_default=True, type=int,
              help="Open connections over both origins; requests beyond: 503.")
@click.option("--tls/--no-tls", default=False, show_default=True,
              help="Serve the API and the files origin over HTTPS with a certificate the mock issues "
              "(its CA file is printed).")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), default=None,
              help="PEM certificate chain to serve instead (with --tls-key; implies --tls).")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--tls-dir", type=click.Path(file_okay=False), default=None,
              help="Keep the generated CA here and reuse it on the next start (default: a temporary directory).")
@click.option("--webhook-ca", type=click.Path(exists=True, dir_okay=False), default=None,
              help="PEM CA file the sender trusts for https receivers, on top of the system store.")
@click.option("--control-token", envvar="ASKARA_MOCK_CONTROL_TOKEN", show_envvar=True, default=None,
              help="Token the control API (/_mock) asks for; default: none on loopback, a random one "
              "beyond it (printed).")
# -- webhooks at start and the banner (mock_server/cli/banner.py) --
@click.option("--webhook-url", "webhook_urls", multiple=True, metavar="URL",
              help="Register a webhook at URL for every event at start, as POST /webhooks would; repeat for several.")
@click.option("--json", "as_json", is_flag=True, help="Print the banner as one line of JSON on stdout.")
def serve(
    host: str,
    port: int,
    public_url: str | None,
    files_port: int | None,
    files_public_url: str | None,
    seed: int,
    seed_documents: int,
    seed_notes: int,
    seed_patients: int,
    clock_mode: str,
    time_scale: float,
    clock_start: float | None,
    client_id: str,
    client_secret: str | None,
    redirect_uris: tuple[str, ...],
    signing_key: Path | None,
    auto_approve: bool,
    device_interval: bool,
    device_verification_uri_complete: bool,
    refresh_reuse: str,
    me_accepts_post: bool,
    rate_limit_capacity: int,
    rate_limit_refill: int,
    rate_limit_interval: int,
    webhook_secret: str | None,
    webhook_timeout: float,
    batch_window: float,
    retry_reading: str,
    retry_count: str,
    documented_only: bool,
    state_path: str | None,
    load_path: str | None,
    save_path: str | None,
    journal_limit: int,
    delivery_limit: int,
    access_log: bool,
    max_header_bytes: int,
    header_timeout: float,
    keep_alive_timeout: float,
    max_connections: int,
    tls: bool,
    tls_cert: str | None,
    tls_key: str | None,
    tls_dir: str | None,
    webhook_ca: str | None,
    control_token: str | None,
    webhook_urls: tuple[str, ...],
    as_json: bool,
) -> None:
    """Serve the mock Askara API with seeded data; deliveries go to the webhooks registered (--webhook-url,
    `askara-mock listen`, or POST /webhooks)."""
    try:
        settings = Settings(
            host=host,
            port=port,
            public_url=public_url,
            files_port=files_port,
            files_public_url=files_public_url,
            seed=seed,
            seed_documents=seed_documents,
            seed_notes=seed_notes,
            seed_patients=seed_patients,
            clock=clock_mode,
            time_scale=time_scale,
            clock_start=clock_start,
            client_id=client_id,
            client_secret=client_secret,
            redirect_uris=redirect_uris,
            signing_key_pem=signing_key.read_text() if signing_key else None,
            auto_approve=auto_approve,
            device_interval=device_interval,
            device_verification_uri_complete=device_verification_uri_complete,
            refresh_reuse=refresh_reuse,
            me_accepts_post=me_accepts_post,
            rate_limit_capacity=rate_limit_capacity,
            rate_limit_refill=rate_limit_refill,
            rate_limit_interval=rate_limit_interval,
            webhook_secret=webhook_secret,
            webhook_timeout=webhook_timeout,
            batch_window=batch_window,
            retry_reading=retry_reading,
            retry_count=retry_count,
            documented_only=documented_only,
            state_path=state_path,
            journal_limit=journal_limit,
            delivery_limit=delivery_limit,
            access_log=access_log,
            max_header_bytes=max_header_bytes,
            header_timeout=header_timeout,
            keep_alive_timeout=keep_alive_timeout,
            max_connections=max_connections,
            tls=tls,
            tls_cert=tls_cert,
            tls_key=tls_key,
            tls_dir=tls_dir,
            webhook_ca=webhook_ca,
            control_token=control_token,
            webhook_urls=webhook_urls,
        )
        settings = with_control_token(settings)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    snapshot_doc = read_snapshot_file(load_path) if load_path else None
    try:
        settings, sockets = bind_sockets(settings)
    except OSError as exc:
        raise click.UsageError(f"cannot listen on {host}:{port} and {host}:{settings.files_port}: {exc}") from None
    with ExitStack() as stack:
        try:
            tls_paths = tls_files(settings, stack)
            app = create_app(settings)
            loaded = _checked_snapshot(load_path, snapshot_doc, app.state.mock) if load_path else None
        except BaseException as exc:
            for sock in sockets:
                sock.close()
            if isinstance(exc, ConfigError | ValueError | OSError):
                raise click.UsageError(str(exc)) from None
            raise
        context = app.state.mock
        if loaded is not None:  # after the sender's start-up hook, so the loaded retries are armed once
            context.startup_hooks.append(functools.partial(_start_from, context, loaded))
        if save_path:  # the last shutdown hook: a clean stop (uvicorn re-raises the signal once it has stopped)
            context.shutdown_hooks.append(functools.partial(_save_on_exit, context, save_path))
        banner.show(settings, context, as_json=as_json, tls=tls_paths)
        tune_gc()
        uvicorn.Server(uvicorn_config(app, settings, tls_paths)).run(sockets=sockets)


async def _start_from(context: MockContext, loaded: dict[str, Any]) -> None:
    """The snapshot in place, then the ``--webhook-url`` webhooks it lacks (they are registered "at start")."""
    await state_snapshot.load(context, loaded)
    register_start_webhooks(context)
    snapshot_format.remember_start(context)  # the story starts with those webhooks in place


async def _save_on_exit(context: MockContext, path: str) -> None:
    write_atomically(path, orjson.dumps(snapshot_format.take(context)))


def _checked_snapshot(path: str, doc: Any, context: MockContext) -> dict[str, Any]:
    """The snapshot read from ``path``, checked whole before the mock starts: a bad one is a usage error."""
    try:
        return state_snapshot.checked(doc, context)
    except ProblemError as exc:
        rules = "".join(f"\n  - {v.property_path or '(document)'}: {v.message}" for v in exc.violations[:10])
        raise ConfigError(f"{path}: {exc.detail}{rules}") from None
