"""The baseline of the API benchmark: a bare Starlette app serving the mock's ``GET /documents`` body.

    .venv/bin/python bench/bare_app.py --port 8766 --body /tmp/documents.json

It does what any Starlette endpoint does at the least (routing, a ``Response``, orjson encoding
of the parsed body on every request) and nothing the mock adds (no token, rate limit, journal,
query parsing or URL signing), so the ratio mock/bare is the price of those. Served as the mock
is: one uvicorn worker, uvloop, httptools, no access log.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def create_bare_app(body: bytes) -> Starlette:
    """``GET /documents`` answers ``body`` re-encoded by orjson per request (same bytes, same work as a real view)."""
    data: Any = orjson.loads(body)
    if orjson.dumps(data) != body:
        print("bare_app: orjson does not reproduce the body byte for byte; serving the re-encoded form",
              file=sys.stderr)  # fmt: skip

    async def documents(request: Request) -> Response:
        return Response(orjson.dumps(data), media_type="application/json")

    return Starlette(routes=[Route("/documents", documents, methods=["GET"])])


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body", type=Path, required=True, help="File holding the JSON body to serve.")
    args = parser.parse_args(argv)
    app = create_bare_app(args.body.read_bytes())
    uvicorn.run(app, host=args.host, port=args.port, loop="uvloop", http="httptools", access_log=False,
                log_level="warning", lifespan="off")  # fmt: skip


if __name__ == "__main__":
    main()
