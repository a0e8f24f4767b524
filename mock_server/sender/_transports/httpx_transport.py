"""The httpx transport, kept for the benchmark comparison."""

from __future__ import annotations

from urllib.parse import urlsplit

from mock_server.sender._transports.base import DeliveryFailure


class HttpxTransport:
    """httpx, one ``AsyncClient`` per scheme/host/port (a shared client tops out near 460/s)."""

    def __init__(self, *, per_destination: bool = True, max_connections: int = 100) -> None:
        self.per_destination = per_destination
        self.max_connections = max_connections
        self._clients: dict[tuple[str, str, int | None], object] = {}

    def _client(self, url: str):
        import httpx

        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "", parts.port) if self.per_destination else ("", "", None)
        client = self._clients.get(key)
        if client is None:
            limits = httpx.Limits(max_connections=self.max_connections, max_keepalive_connections=self.max_connections)
            client = httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=None, limits=limits)
            self._clients[key] = client
        return client

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], *, keep_bytes: int, max_bytes: int
    ) -> tuple[int, bytes]:
        import httpx

        try:
            async with self._client(url).stream("POST", url, content=body, headers=headers) as response:
                kept = bytearray()
                total = 0
                async for chunk in response.aiter_raw():
                    total += len(chunk)
                    if len(kept) < keep_bytes:
                        kept += chunk[: keep_bytes - len(kept)]
                    if total > max_bytes:
                        raise DeliveryFailure("error", f"the answer body is larger than {max_bytes} bytes")
                return response.status_code, bytes(kept)
        except httpx.ConnectError as exc:
            raise DeliveryFailure("refused", f"cannot connect: {exc}") from None
        except (httpx.ReadError, httpx.WriteError) as exc:
            raise DeliveryFailure("reset", f"connection lost: {exc or type(exc).__name__}") from None
        except httpx.RemoteProtocolError as exc:
            kind = "reset" if "disconnected" in str(exc) or "closed" in str(exc) else "error"
            raise DeliveryFailure(kind, str(exc)) from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise DeliveryFailure("invalid_url", str(exc)) from None
        except httpx.HTTPError as exc:
            raise DeliveryFailure("error", f"{type(exc).__name__}: {exc}") from None

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()  # type: ignore[attr-defined]
