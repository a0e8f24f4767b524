"""A scripted webhook receiver on loopback, for the sender's tests and benchmark.

Raw asyncio instead of an ASGI server because the interesting receivers misbehave below HTTP:
they reset the connection, answer garbage, trickle a body or send far too much. Each request
gets a behaviour: the next one queued in :attr:`ScriptedReceiver.script`, else the one named
by the URL path (``/status/500``, ``/reset``, ``/trickle`` ...), else ``ok``.

Behaviours: ``ok`` (200 ``{"ok":true}``), ``status/<code>``, ``hang`` (read, never answer),
``reset`` (read, then RST), ``close`` (read, close without answering), ``garbage`` (not HTTP),
``trickle`` (200 whose body comes one byte every 0.1 s), ``huge`` (200 with a 64 MiB body),
``redirect`` (302 to ``/ok``), ``slow/<seconds>`` (200 after that many real seconds).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

HUGE_BYTES = 64 * 1024 * 1024


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    wall: float
    behaviour: str


@dataclass
class ScriptedReceiver:
    """``async with ScriptedReceiver() as rx``: ``rx.url("/hook")``, ``rx.requests``, ``rx.script``."""

    host: str = "127.0.0.1"
    script: deque[str] = field(default_factory=deque)
    requests: list[ReceivedRequest] = field(default_factory=list)
    port: int = 0
    tls: ssl.SSLContext | None = None
    """Serve HTTPS with this server context (a real TLS receiver for the sender's trust)."""
    _server: asyncio.base_events.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    def url(self, path: str = "/hook") -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}{path}"

    async def __aenter__(self) -> ScriptedReceiver:
        self._server = await asyncio.start_server(self._handle, self.host, 0, ssl=self.tls)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            await self._server.wait_closed()
            self._server = None

    def behaviour_for(self, path: str) -> str:
        if self.script:
            return self.script.popleft()
        name = path.strip("/").split("?")[0]
        return name if name and name.split("/")[0] in _KNOWN else "ok"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                method, path, headers, body = request
                behaviour = self.behaviour_for(path)
                self.requests.append(ReceivedRequest(method, path, headers, body, time.time(), behaviour))
                if not await self._answer(behaviour, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _answer(self, behaviour: str, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection is finished."""
        name, _, arg = behaviour.partition("/")
        if name == "ok":
            writer.write(_response(200, b'{"ok":true}'))
        elif name == "status":
            writer.write(_response(int(arg or 500), b'{"error":"scripted"}'))
        elif name == "redirect":
            writer.write(_response(302, b"", extra=b"Location: /ok\r\n"))
        elif name == "slow":
            await asyncio.sleep(float(arg or 1))
            writer.write(_response(200, b'{"ok":true}'))
        elif name == "hang":
            await asyncio.sleep(3600)
        elif name == "close":
            return False
        elif name == "reset":
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        elif name == "garbage":
            writer.write(b"this is not HTTP at all\x00\xff\r\n\r\n")
            await writer.drain()
            return False
        elif name == "trickle":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n")
            for _ in range(200):
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(0.1)
            return False
        elif name == "huge":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % HUGE_BYTES)
            chunk = b"x" * 65536
            for _ in range(HUGE_BYTES // len(chunk)):
                writer.write(chunk)
                await writer.drain()
            return False
        await writer.drain()
        return True


_KNOWN = {"ok", "status", "redirect", "slow", "hang", "close", "reset", "garbage", "trickle", "huge"}


@contextmanager
def receiver_in_thread(*script: str) -> Iterator[ScriptedReceiver]:
    """A receiver on an event loop of its own in a thread: for a mock running in another process."""
    loop = asyncio.new_event_loop()
    rx = ScriptedReceiver()
    rx.script.extend(script)
    thread = threading.Thread(target=loop.run_forever, name="askara-mock-receiver", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(rx.__aenter__(), loop).result(10)
    try:
        yield rx
    finally:
        asyncio.run_coroutine_threadsafe(rx.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _response(status: int, body: bytes, *, extra: bytes = b"") -> bytes:
    head = b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % (status, len(body))
    return head + extra + b"\r\n" + body


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    body = await reader.readexactly(length) if length else b""
    return method, path, headers, body
