"""Which origin a request reached: the API, or the files origin where pre-signed PDF links point.

One server listens on two ports (``port`` and ``files_port``); ASGI's ``scope["server"]`` is the
local address a connection came in on, so the port decides. In-process clients (Starlette's
``TestClient``, ``httpx.ASGITransport``) put the URL's host and port there, so a test simply
requests the link as served (``client.get(doc["pdf"]["url"])``) and lands on the files origin.
When the files origin is reached through another name (``files_public_url``, e.g. behind a
proxy), a ``Host`` header naming it also counts.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import Scope

from mock_server.core.settings import Settings

ORIGIN_KEY = "askara.origin"
"""Where the verdict is kept in the scope ("api" or "files"), so each layer asks once."""


def reached_files(scope: Scope, settings: Settings) -> bool:
    origin = scope.get(ORIGIN_KEY)
    if origin is None:
        origin = scope[ORIGIN_KEY] = "files" if _is_files(scope, settings) else "api"
    return bool(origin == "files")


def _is_files(scope: Scope, settings: Settings) -> bool:
    server = scope.get("server")
    port = server[1] if server else None
    if port is not None and int(port) == settings.files_port:
        return True
    if port is not None and int(port) == settings.port and settings.files_public_url is None:
        return False  # the hot path: a request to the API port, no public files name to compare
    netloc = _netloc(settings.files_base_url)
    for name, value in scope.get("headers", ()):
        if name == b"host":
            return value.decode("latin-1").lower() == netloc
    return False


def _netloc(base_url: str) -> str:
    parts = urlsplit(base_url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    return host if parts.port in (None, default) else f"{host}:{parts.port}"
