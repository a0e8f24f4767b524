"""``askara-mock serve``: build the mock from the command line's settings and run it under uvicorn."""

from __future__ import annotations

from pathlib import Path

import click
import uvicorn
from rich.console import Console
from rich.table import Table

from mock_server.app import create_app
from mock_server.core.context import MockContext
from mock_server.core.errors import ConfigError
from mock_server.core.settings import Settings
from mock_server.core.vocabulary import CLOCK_MODES
from mock_server.serving import tune_gc, uvicorn_config


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind; loopback unless you mean it.")
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--public-url", default=None, help="Base URL written into PDF links (default http://HOST:PORT).")
@click.option("--seed", default=1, show_default=True, type=int, help="Seed of every generated value.")
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
@click.option("--state", "state_path", type=click.Path(dir_okay=False), default=None,
              help="Keep the whole state in this SQLite file; restart resumes pending retries.")
@click.option("--journal-limit", default=10_000, show_default=True, type=int)
@click.option("--delivery-limit", default=10_000, show_default=True, type=int)
@click.option("--access-log/--no-access-log", default=False, show_default=True)
def serve(
    host: str,
    port: int,
    public_url: str | None,
    seed: int,
    clock_mode: str,
    time_scale: float,
    clock_start: float | None,
    client_id: str,
    client_secret: str | None,
    redirect_uris: tuple[str, ...],
    signing_key: Path | None,
    auto_approve: bool,
    me_accepts_post: bool,
    rate_limit_capacity: int,
    rate_limit_refill: int,
    rate_limit_interval: int,
    webhook_secret: str | None,
    webhook_timeout: float,
    batch_window: float,
    state_path: str | None,
    journal_limit: int,
    delivery_limit: int,
    access_log: bool,
) -> None:
    """Serve the mock Askara API with seeded data (webhooks ready)."""
    try:
        settings = Settings(
            host=host,
            port=port,
            public_url=public_url,
            seed=seed,
            clock=clock_mode,
            time_scale=time_scale,
            clock_start=clock_start,
            client_id=client_id,
            client_secret=client_secret,
            redirect_uris=redirect_uris,
            signing_key_pem=signing_key.read_text() if signing_key else None,
            auto_approve=auto_approve,
            me_accepts_post=me_accepts_post,
            rate_limit_capacity=rate_limit_capacity,
            rate_limit_refill=rate_limit_refill,
            rate_limit_interval=rate_limit_interval,
            webhook_secret=webhook_secret,
            webhook_timeout=webhook_timeout,
            batch_window=batch_window,
            state_path=state_path,
            journal_limit=journal_limit,
            delivery_limit=delivery_limit,
            access_log=access_log,
        )
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    app = create_app(settings)
    _banner(settings, app.state.mock)
    tune_gc()
    uvicorn.Server(uvicorn_config(app, settings)).run()


def _banner(settings: Settings, context: MockContext) -> None:
    table = Table(title="askara-mock", show_header=False, title_justify="left")
    table.add_row("API", settings.base_url)
    table.add_row("Web page", f"{settings.base_url}/_mock/ui")
    table.add_row("OpenAPI", f"{settings.base_url}/openapi.json")
    table.add_row("Client id", settings.client_id)
    table.add_row("Client secret", context.client_secret)
    table.add_row("Credentials", f"curl {settings.base_url}/_mock/credentials")
    table.add_row("Clock", f"{settings.clock} (scale {settings.time_scale})")
    table.add_row("State", settings.state_path or "in memory")
    Console(stderr=True).print(table)
