"""What ``askara-mock serve`` prints at start: where the mock is, what is registered, what to run next.

On stderr as ``name  value`` lines (:func:`.output.print_pairs`), or with ``serve --json`` as ONE
line of JSON on stdout, so a script that starts the mock can ``readline`` it. The next commands
are spelled by :func:`.output.program` (``.venv/bin/askara-mock`` after the README's setup
command) and carry ``--mock-url`` when the mock is not on the default address, so they work as
printed from the terminal the user is in.
"""

from __future__ import annotations

from typing import Any

from mock_server.cli.output import DEFAULT_MOCK_URL, print_json_line, print_pairs, program
from mock_server.core.context import MockContext
from mock_server.core.settings import Settings
from mock_server.core.tls import TlsFiles


def local_url(settings: Settings) -> str:
    """Where a client on this machine reaches the mock (``--public-url`` may name another address)."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "", "::") else settings.advertised_host
    return f"{settings.scheme}://{host}:{settings.port}"


def next_commands(settings: Settings, context: MockContext, tls: TlsFiles | None = None) -> list[str]:
    url = local_url(settings)
    suffix = "" if url == DEFAULT_MOCK_URL else f" --mock-url {url}"
    if tls is not None and tls.ca:
        suffix += f" --mock-ca {tls.ca}"
    commands = [] if _webhooks(context) else [f"{program()} listen{suffix}"]
    return [*commands, f"{program()} trigger new_document{suffix}"]


def describe(settings: Settings, context: MockContext, tls: TlsFiles | None = None) -> dict[str, Any]:
    base = settings.base_url
    return {
        "tls": {"cert": tls.cert, "ca_file": tls.ca} if tls else None,
        "control_token": settings.control_token,
        "api_url": base,
        "files_url": f"{settings.files_base_url}/{settings.files_bucket}",
        "mock_url": local_url(settings),
        "ui_url": f"{base}/_mock/ui",
        "openapi_url": f"{base}/openapi.json",
        "credentials_url": f"{base}/_mock/credentials",
        "client_id": settings.client_id,
        "client_secret": context.client_secret,
        "webhook_secret": context.webhook_secret,
        "webhooks": _webhooks(context),
        "clock": {"mode": settings.clock, "scale": settings.time_scale},
        "state": settings.state_path,
        "retries": {"delays": list(settings.retry_delays), "reading": settings.retry_reading,
                    "count": settings.retry_count},
        "assumptions_url": f"{base}/_mock/assumptions",
        "documented_only": settings.documented_only,
        "next": next_commands(settings, context, tls),
    }


def show(settings: Settings, context: MockContext, *, as_json: bool = False, tls: TlsFiles | None = None) -> None:
    info = describe(settings, context, tls)
    if as_json:
        print_json_line(info)
        return
    webhooks = info["webhooks"] or [None]
    commands = info["next"]
    steps = ["in a second terminal (prints each delivery):", "then, in a third:"] if len(commands) > 1 else [
        "in a second terminal:"]
    print_pairs(
        "askara-mock",
        [
            ("API", info["api_url"]),
            ("Files (PDF links)", f"{info['files_url']}/... (SigV4 pre-signed, {settings.files_region})"),
            ("Web page", info["ui_url"]),
            ("OpenAPI", info["openapi_url"]),
            ("TLS", (f"HTTPS, trust the CA file {tls.ca}" if tls.ca else f"HTTPS with {tls.cert}") if tls
             else "off (plain HTTP; --tls serves HTTPS)"),
            ("Control API", f"token {settings.control_token} (Authorization: Bearer, or {info['ui_url']}?token=...)"
             if settings.control_token else "open (bound to loopback)"),
            ("Client id", info["client_id"]),
            ("Client secret", info["client_secret"]),
            ("Credentials", f"curl -s {info['credentials_url']}"),
            ("Signatures", f"Standard Webhooks, secret {info['webhook_secret']}" if info["webhook_secret"]
             else "off (--webhook-secret generate signs deliveries)"),
            *((("Webhooks" if i == 0 else ""), _webhook_line(w)) for i, w in enumerate(webhooks)),
            ("Clock", f"{settings.clock} (scale {settings.time_scale})"),
            ("State", settings.state_path or "in memory"),
            ("Retries", ", ".join(f"{d:g} s" for d in settings.retry_delays)
             + f" read as {settings.retry_reading}, counted as {settings.retry_count}"),
            ("Assumptions", f"curl -s {info['assumptions_url']}" + (" (documented only)" if settings.documented_only
                                                                    else "")),
            *((("Next" if i == 0 else ""), f"{step} {command}") for i, (step, command) in
              enumerate(zip(steps, commands, strict=True))),
        ],
        err=True,
    )


def _webhooks(context: MockContext) -> list[dict[str, Any]]:
    return [{"uuid": w["uuid"], "url": w["url"], "events": list(w.get("events") or []), "active": w.get("active")}
            for w in context.store.webhooks]


def _webhook_line(webhook: dict[str, Any] | None) -> str:
    if webhook is None:
        return "none registered: deliveries go nowhere until one is (listen, --webhook-url, or POST /webhooks)"
    state = "" if webhook["active"] else " (inactive)"
    return f"{webhook['url']} ({', '.join(webhook['events'])}){state}"
