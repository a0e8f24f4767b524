"""The reference Askara integration: correct by default, broken on purpose with ``--defect NAME``.

The conformance harness starts it as a process, registers its webhook URL on the mock and judges
what the mock saw. Run it as a script (its folder is on ``sys.path`` then, so the ``ref_*``
modules import as plain modules)::

    python tests/integrations/reference.py --port 8100 [--mode webhook|polling] [--defect NAME ...]

Environment (set by the harness): ASKARA_API_URL, ASKARA_CLIENT_ID, ASKARA_CLIENT_SECRET,
ASKARA_REFRESH_TOKEN, and ASKARA_WEBHOOK_SECRET when signatures are on.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import ssl
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import uvicorn
from ref_api import ApiError, AskaraApi, Credentials
from ref_defects import DEFECTS, Defects
from ref_importer import Importer
from ref_polling import Poller
from ref_receiver import Receiver
from ref_state import TokenFile
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

log = logging.getLogger("reference")

WORKERS = 4


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, help="port to listen on (required unless --list-defects)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--path", default="/webhook", help="path of the webhook endpoint")
    parser.add_argument("--mode", choices=("webhook", "polling"), default="webhook")
    parser.add_argument("--poll-interval", type=float, default=30.0, help="seconds between polls (polling mode)")
    parser.add_argument("--data-dir", type=Path, help="where PDFs and notes are saved (default: a new temp dir)")
    parser.add_argument(
        "--verify-signatures", action="store_true", help="check webhook signatures when a secret is set"
    )
    parser.add_argument(
        "--defect", action="append", default=[], metavar="NAME", help="a deliberate defect (repeatable)"
    )
    parser.add_argument(
        "--register-webhook", metavar="URL", help="register this URL as its own webhook at start (POST /webhooks)"
    )
    parser.add_argument("--list-defects", action="store_true", help="print the defects as JSON and exit")
    args = parser.parse_args(argv)
    if not args.list_defects:
        if args.port is None:
            parser.error("--port is required")
        if not args.path.startswith("/") or args.path == "/health":
            parser.error(f"--path must start with / and not be /health; got {args.path!r}")
        if args.poll_interval <= 0:
            parser.error(f"--poll-interval must be > 0; got {args.poll_interval!r}")
        try:
            args.defects = Defects(args.defect)
        except ValueError as exc:
            parser.error(str(exc))
    return args


def build_app(args: argparse.Namespace, credentials: Credentials) -> Starlette:
    """The receiver app; its lifespan owns the HTTP clients, the workers and the poller."""
    defects: Defects = args.defects
    data_dir: Path = args.data_dir or Path(tempfile.mkdtemp(prefix="askara-reference-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    state: dict[str, object] = {}

    # An HTTPS Askara signed by a private CA (the harness's --mock-tls): trust ASKARA_CA_FILE too.
    ca_file = os.environ.get("ASKARA_CA_FILE")
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with (
            httpx.AsyncClient(timeout=10.0, trust_env=False, verify=verify) as api_http,
            httpx.AsyncClient(timeout=15.0, trust_env=False, verify=verify, follow_redirects=True) as download_http,
        ):
            api = AskaraApi(api_http, credentials, defects, TokenFile(data_dir, credentials.refresh_token, defects))
            importer = Importer(api, download_http, data_dir, defects)
            receiver = Receiver(importer, defects, credentials.webhook_secret, args.verify_signatures, args.mode)
            state.update(api=api, importer=importer, receiver=receiver)
            if args.register_webhook:
                await _register(api, args.register_webhook)
            tasks = [asyncio.create_task(receiver.worker(n)) for n in range(WORKERS)]
            tasks.append(asyncio.create_task(_first_token(api, defects)))
            if args.mode == "polling":
                poller = Poller(api, importer, args.poll_interval, defects)
                state["poller"] = poller
                tasks.append(asyncio.create_task(poller.run()))
            log.info(
                "started: mode=%s path=%s data-dir=%s verify-signatures=%s defects=%s",
                args.mode,
                args.path,
                data_dir,
                receiver.key is not None,
                ",".join(defects.sorted()) or "none",
            )
            if args.verify_signatures and not credentials.webhook_secret:
                log.warning("--verify-signatures without ASKARA_WEBHOOK_SECRET: deliveries are accepted unsigned")
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                log.info("stopped")

    async def webhook(request: Request) -> JSONResponse:
        receiver: Receiver = state["receiver"]  # type: ignore[assignment]
        return await receiver.webhook(request)

    async def health(request: Request) -> JSONResponse:
        importer: Importer | None = state.get("importer")  # type: ignore[assignment]
        receiver: Receiver | None = state.get("receiver")  # type: ignore[assignment]
        api: AskaraApi | None = state.get("api")  # type: ignore[assignment]
        return JSONResponse(
            {
                "status": "ok",
                "mode": args.mode,
                "defects": defects.sorted(),
                "data_dir": str(data_dir),
                "documents": dict(importer.documents) if importer else {},
                "notes": len(importer.notes) if importer else 0,
                "deliveries": receiver.deliveries if receiver else 0,
                "queued": receiver.queue.qsize() if receiver else 0,
                "token_refreshes": api.refreshes if api else 0,
            }
        )

    routes = [Route("/health", health, methods=["GET"]), Route(args.path, webhook, methods=["POST"])]
    return Starlette(routes=routes, lifespan=lifespan)


async def _register(api: AskaraApi, url: str) -> None:
    """Subscribe ``url`` to the three documented events, before the receiver starts listening."""
    events = ["new_document", "document_synchronize", "new_note"]
    response = await api.call("POST", "/webhooks", json_body={"url": url, "events": events, "active": True})
    log.info("webhook: registered %s -> %s", url, response.status_code)


async def _first_token(api: AskaraApi, defects: Defects) -> None:
    """Exchange the refresh token at start; a failure is logged and retried at the first API call."""
    try:
        await api.token()
        if defects.on("post-me"):  # the quickstart's curl: the reference documents GET /me only
            response = await api.call("POST", "/me")
            if not response.is_success:
                log.error("me: POST /me answered HTTP %d: %s", response.status_code, response.text[:300])
    except ApiError as exc:
        log.info("token: first exchange failed: %s", exc)


async def serve(args: argparse.Namespace, credentials: Credentials) -> None:
    config = uvicorn.Config(
        build_app(args, credentials),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)

    def stop(signum: int, frame: object) -> None:
        # uvicorn captures signals while serving and re-raises them after a graceful stop; this
        # handler makes that re-raise harmless, so SIGTERM / SIGINT end the process with status 0.
        server.should_exit = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    await server.serve()
    if not server.started:
        raise SystemExit(f"could not listen on {args.host}:{args.port}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list_defects:
        print(json.dumps([{"name": d.name, "check": d.check, "does": d.does} for d in DEFECTS.values()], indent=2))
        return 0
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s reference: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        credentials = Credentials.from_env()
    except ValueError as exc:
        log.error("%s", exc)
        return 2
    asyncio.run(serve(args, credentials))
    return 0


if __name__ == "__main__":
    sys.exit(main())
