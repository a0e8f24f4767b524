"""Where the mock's time goes on ``GET /documents?itemsPerPage=20``: an in-process breakdown.

    .venv/bin/python bench/bench_api.py --profile [--documents 20]

Two views, no network (the socket and HTTP parsing cost the same in the mock and in bare
Starlette, so they are left out):

* the whole ASGI app called directly (middleware, routing, auth, collection, encoding), in
  microseconds per request, with the journal already full (its steady state in a long run), in
  three cases: the list body served from its cache (nothing changed since the last read: the
  benchmark's case), one document written before each request (the page is rebuilt, 19 of 20
  documents come from the served-document memo), and both caches emptied before each request
  (what every request cost before the caches);
* each piece of the request path timed alone, and a cProfile of the ASGI loop (top functions).
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

BIG_RATE_LIMIT = 1_000_000_000


def per_call_us(fn: Callable[[], Any], *, seconds: float = 0.4) -> float:
    """Mean microseconds of ``fn()``, repeated for about ``seconds``."""
    fn()
    calls, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(50):
            fn()
        calls += 50
    return elapsed / calls * 1e6


def asgi_caller(app: Any, path: str, query: bytes, headers: list[tuple[bytes, bytes]]) -> Callable[[], Any]:
    """A coroutine factory running one request through ``app`` without any server."""
    scope_base = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                  "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query,
                  "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8765)}  # fmt: skip
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    async def call() -> None:
        await app(dict(scope_base), receive, send)
        if status.pop() != 200:
            raise RuntimeError("the profiled request did not answer 200")

    return call


def profile(documents: int = 20, requests: int = 3000) -> None:
    from mock_server import Settings, create_app
    from mock_server.api.documents import SPEC, visible_documents
    from mock_server.domain.documents import public_document, served_document
    from mock_server.domain.links import signed_pdf_url
    from mock_server.web.collections import apply, parse_query
    from mock_server.web.middleware import ApiMiddleware

    settings = Settings(seed_documents=documents, rate_limit_capacity=BIG_RATE_LIMIT)
    app = create_app(settings)
    ctx = app.state.mock
    user = ctx.store.users.values()[0]
    token = ctx.tokens.issue_pair(settings.client_id, user["uuid"], ["read:documents"])["access_token"]
    headers = [(b"host", b"127.0.0.1:8765"), (b"authorization", f"Bearer {token}".encode()),
               (b"user-agent", b"wrk"), (b"accept", b"*/*")]  # fmt: skip
    call = asgi_caller(app, "/documents", b"itemsPerPage=20", headers)
    loop = asyncio.new_event_loop()

    def run_many(n: int, one: Callable[[], Any] = call) -> float:
        async def many() -> None:
            for _ in range(n):
                await one()

        started = time.perf_counter()
        loop.run_until_complete(many())
        return (time.perf_counter() - started) / n * 1e6

    run_many(settings.journal_limit + 100)  # fill the journal: from now on every entry evicts one
    whole = run_many(requests)
    written = ctx.store.documents.values()[0]["uuid"]

    async def after_a_write() -> None:
        ctx.store.documents.save(written)  # what a status report does to the table: a new version
        await call()

    async def cold() -> None:
        ctx.caches.list_bodies.clear()
        ctx.caches.served_documents.clear()
        await call()

    rebuilt = run_many(requests // 3, after_a_write)
    uncached = run_many(requests // 3, cold)

    docs = visible_documents(ctx, user["_organization_id"])
    query = parse_query(SPEC, [("itemsPerPage", "20")])
    page, _ = apply(SPEC, query, docs)
    bodies = [public_document(ctx, d) for d in page]
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bare_app import create_bare_app  # type: ignore[import-not-found]

    bare = run_many(requests, asgi_caller(create_bare_app(orjson.dumps(bodies)), "/documents", b"", []))
    middleware = ApiMiddleware(app, ctx)
    note = {"client_id": "c", "token_jti": "j"}
    scope = {"type": "http", "method": "GET", "path": "/documents", "query_string": b"itemsPerPage=20",
             "headers": headers, "client": ("127.0.0.1", 1), "askara.note": note}  # fmt: skip
    expires = ctx.clock.now() + 3600
    pieces: list[tuple[str, Callable[[], Any]]] = [
        ("token verify, cached (verify_access)", lambda: ctx.tokens.verify_access(token)),
        ("token verify, uncached RS256 (_decode)", lambda: ctx.tokens._decode(token)),
        ("rate-limit bucket key (peek_client)", lambda: middleware._bucket_key(scope)),
        ("rate limit take + headers", lambda: ctx.rate_limiter.take("client:c").headers()),
        ("journal entry (full table: put + evict)", lambda: middleware._journal(scope, 200, 0.0, "api")),
        ("visible_documents (scan of the store)", lambda: visible_documents(ctx, user["_organization_id"])),
        ("parse_query + filter/sort/page", lambda: apply(SPEC, parse_query(SPEC, [("itemsPerPage", "20")]), docs)),
        ("serialize 20 documents (public_document, memo hit)", lambda: [public_document(ctx, d) for d in page]),
        ("serialize 20 documents, no memo (served_document)", lambda: [served_document(d) for d in page]),
        ("  of which: 20 HMAC-signed PDF URLs",
         lambda: [signed_pdf_url(ctx, d["uuid"], d["pdf"]["fileName"], expires) for d in page]),  # fmt: skip
        ("orjson.dumps of the 20-document body", lambda: orjson.dumps(bodies)),
    ]
    print(f"whole ASGI app, no server (us/request): bare_app {bare:.1f}; mock: list body cached {whole:.1f}, "
          f"after a document write {rebuilt:.1f}, caches emptied {uncached:.1f}")  # fmt: skip
    print(f"{'piece':<52}{'us/call':>9}")
    for name, fn in pieces:
        print(f"{name:<52}{per_call_us(fn):>9.1f}")

    profiler = cProfile.Profile()
    profiler.enable()
    run_many(requests)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
    print(f"\ncProfile of {requests} requests through the ASGI app (sorted by own time):")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[-2600:])
    loop.close()
