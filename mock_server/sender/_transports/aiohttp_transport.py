"""The aiohttp transport, kept for the benchmark comparison (aiohttp is in the ``bench`` extra)."""

from __future__ import annotations

import errno

from mock_server.sender._transports.base import DeliveryFailure


class AiohttpTransport:
    """One aiohttp session for every destination, created on first use in the running loop."""

    def __init__(self, *, limit_per_host: int = 0) -> None:
        self.limit_per_host = limit_per_host
        self._session: object | None = None

    def _get_session(self):
        import aiohttp

        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=0, limit_per_host=self.limit_per_host, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
                timeout=aiohttp.ClientTimeout(total=None),
                skip_auto_headers=("Accept-Encoding",),
            )
        return self._session

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], *, keep_bytes: int, max_bytes: int
    ) -> tuple[int, bytes]:
        import aiohttp

        session = self._get_session()
        try:
            async with session.post(url, data=body, headers=headers, allow_redirects=False) as response:
                kept = bytearray()
                while len(kept) < keep_bytes:
                    chunk = await response.content.read(keep_bytes - len(kept))
                    if not chunk:
                        return response.status, bytes(kept)
                    kept += chunk
                total = len(kept)
                while chunk := await response.content.readany():
                    total += len(chunk)
                    if total > max_bytes:
                        response.close()
                        raise DeliveryFailure("error", f"the answer body is larger than {max_bytes} bytes")
                return response.status, bytes(kept)
        except aiohttp.ClientConnectorError as exc:
            raise DeliveryFailure("refused", f"cannot connect: {exc.os_error or exc}") from None
        except aiohttp.ServerDisconnectedError:
            raise DeliveryFailure("reset", "the receiver closed the connection without a complete answer") from None
        except aiohttp.ClientPayloadError as exc:
            raise DeliveryFailure("reset", f"the answer body was cut short: {exc}") from None
        except aiohttp.InvalidURL as exc:
            raise DeliveryFailure("invalid_url", f"invalid URL: {exc}") from None
        except aiohttp.ClientOSError as exc:
            kind = "reset" if exc.errno in (errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED) else "error"
            raise DeliveryFailure(kind, str(exc)) from None
        except aiohttp.ClientResponseError as exc:
            raise DeliveryFailure("error", f"not a valid HTTP answer: {exc.message}") from None
        except aiohttp.ClientError as exc:
            raise DeliveryFailure("error", f"{type(exc).__name__}: {exc}") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()  # type: ignore[attr-defined]
            self._session = None
