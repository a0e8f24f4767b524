"""The minimal HTTP/1.1 client of the sender: framing, keep-alive, reuse, failures, the request on the wire."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from mock_server.sender._transports.base import DeliveryFailure, attempt
from mock_server.sender._transports.http1 import Http1Client
from mock_server.testing.receiver import _read_request

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"


@dataclass
class RawServer:
    """Answers each request with the next scripted item: raw bytes, or a callable on the writer."""

    script: list[bytes | Callable[[asyncio.StreamWriter], Awaitable[bool]]] = field(default_factory=list)
    connections: int = 0
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    port: int = 0

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while (request := await _read_request(reader)) is not None:
                self.requests.append(request)
                step = self.script.pop(0) if self.script else OK
                if isinstance(step, bytes):
                    writer.write(step)
                    await writer.drain()
                elif not await step(writer):
                    break
        except ConnectionError:
            pass
        finally:
            writer.close()


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), timeout=30))


async def post(client: Http1Client, url: str, *, keep: int = 1024, limit: int = 1 << 20) -> tuple[int, bytes]:
    return await client.post(url, b'{"events":[]}', {"Content-Type": "application/json"}, keep_bytes=keep,
                             max_bytes=limit)


def test_keep_alive_reuses_one_connection_per_destination() -> None:
    async def scenario() -> None:
        async with RawServer() as one, RawServer() as two:
            client = Http1Client()
            for _ in range(3):
                assert await post(client, one.url()) == (200, b'{"ok":true}')
                assert await post(client, two.url("/other")) == (200, b'{"ok":true}')
            assert (one.connections, two.connections) == (1, 1)
            await client.close()

    run(scenario)


def test_the_request_on_the_wire() -> None:
    async def scenario() -> None:
        async with RawServer() as server:
            client = Http1Client()
            body = b'{"events":[{"id":"x"}]}'
            await client.post(server.url("/in box/ü?a=1 2&b=%41"), body, {"Content-Type": "application/json",
                              "User-Agent": "UA/1", "webhook-id": "msg_1"}, keep_bytes=10, max_bytes=100)
            method, path, headers, received = server.requests[0]
            assert method == "POST" and path == "/in%20box/%C3%BC?a=1%202&b=%41"
            assert headers["host"] == f"127.0.0.1:{server.port}"
            assert headers["content-length"] == str(len(body)) and received == body
            assert headers["content-type"] == "application/json" and headers["user-agent"] == "UA/1"
            assert headers["webhook-id"] == "msg_1"
            assert "accept-encoding" not in headers and "transfer-encoding" not in headers
            assert "authorization" not in headers
            await post(client, server.url("/x").replace("http://", "http://us%20er:p%40ss@"))
            assert server.requests[1][2]["authorization"] == "Basic dXMgZXI6cEBzcw=="  # "us er:p@ss"
            await client.close()

    run(scenario)


def test_chunked_answers_are_read_whole_kept_in_part_and_the_connection_reused() -> None:
    chunked = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"

    async def scenario() -> None:
        async with RawServer(script=[chunked, chunked]) as server:
            client = Http1Client()
            assert await post(client, server.url()) == (201, b"hello world")
            assert await post(client, server.url(), keep=7) == (201, b"hello w")
            assert await post(client, server.url()) == (200, b'{"ok":true}')
            assert server.connections == 1
            await client.close()

    run(scenario)


def test_an_answer_delimited_by_the_end_of_the_connection() -> None:
    async def close_after(writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
        await writer.drain()
        return False

    async def scenario() -> None:
        async with RawServer(script=[close_after]) as server:
            client = Http1Client()
            assert await post(client, server.url()) == (200, b"until the end")
            assert await post(client, server.url()) == (200, b'{"ok":true}')
            assert server.connections == 2
            await client.close()

    run(scenario)


def test_connection_close_and_a_receiver_closing_idle_connections_mean_a_new_connection() -> None:
    async def answer_then_close(writer: asyncio.StreamWriter) -> bool:
        writer.write(OK)  # keep-alive by default, then closed while idle (as a keep-alive timeout does)
        await writer.drain()
        return False

    closing = b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"

    async def scenario() -> None:
        async with RawServer(script=[closing, answer_then_close]) as server:
            client = Http1Client()
            assert await post(client, server.url()) == (204, b"")
            assert await post(client, server.url()) == (200, b'{"ok":true}')
            await asyncio.sleep(0.05)  # the receiver's FIN arrives while the connection is idle
            assert await post(client, server.url()) == (200, b'{"ok":true}')
            assert server.connections == 3
            await client.close()

    run(scenario)


def test_an_answer_nobody_asked_for_drops_the_connection() -> None:
    async def scenario() -> None:
        async with RawServer(script=[OK + OK]) as server:
            client = Http1Client()
            assert await post(client, server.url()) == (200, b'{"ok":true}')
            assert await post(client, server.url()) == (200, b'{"ok":true}')
            assert server.connections == 2
            await client.close()

    run(scenario)


def test_idle_connections_expire() -> None:
    async def scenario() -> None:
        async with RawServer() as server:
            client = Http1Client(idle_expiry=0.0)
            await post(client, server.url())
            await asyncio.sleep(0.01)
            await post(client, server.url())
            assert server.connections == 2
            await client.close()

    run(scenario)


def test_informational_answers_are_skipped() -> None:
    async def scenario() -> None:
        async with RawServer(script=[b"HTTP/1.1 100 Continue\r\n\r\n" + OK]) as server:
            client = Http1Client()
            assert await post(client, server.url()) == (200, b'{"ok":true}')
            await client.close()

    run(scenario)


async def _reset(writer: asyncio.StreamWriter) -> bool:
    writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
    return False


async def _close(writer: asyncio.StreamWriter) -> bool:
    return False


async def _cut_short(writer: asyncio.StreamWriter) -> bool:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
    await writer.drain()
    return False


@pytest.mark.parametrize(
    ("step", "kind", "words"),
    [
        (b"SMTP ready\r\n\r\n", "error", "not a valid HTTP answer"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000, "error", "larger than 1000 bytes"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + (b"3e8\r\n" + b"y" * 1000 + b"\r\n") * 2,
         "error", "larger than 1000 bytes"),
        (_reset, "reset", ""),
        (_close, "reset", "without a complete answer"),
        (_cut_short, "reset", "cut short"),
    ],
)
def test_bad_answers_are_failures_of_the_senders_kinds_and_the_connection_is_dropped(step, kind, words) -> None:
    async def scenario() -> None:
        async with RawServer(script=[step]) as server:
            client = Http1Client()
            with pytest.raises(DeliveryFailure) as caught:
                await post(client, server.url(), limit=1000)
            assert caught.value.kind == kind and words in str(caught.value)
            assert await post(client, server.url()) == (200, b'{"ok":true}')
            assert server.connections == 2
            await client.close()

    run(scenario)


def test_refused_and_timed_out_attempts() -> None:
    async def hang(writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")
        await asyncio.sleep(5)
        return False

    async def scenario() -> None:
        client = Http1Client()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            closed_port = sock.getsockname()[1]
        outcome = await attempt(client, f"http://127.0.0.1:{closed_port}/x", b"{}", {}, timeout=2, keep_bytes=10,
                                max_bytes=100)
        assert outcome.failure == "refused" and outcome.status is None
        async with RawServer(script=[hang]) as server:
            outcome = await attempt(client, server.url(), b"{}", {}, timeout=0.2, keep_bytes=10, max_bytes=100)
            assert outcome.failure == "timeout" and 190 <= outcome.latency_ms < 1000
            assert await post(client, server.url()) == (200, b'{"ok":true}')  # not on the abandoned connection
            assert server.connections == 2
        await client.close()

    run(scenario)
