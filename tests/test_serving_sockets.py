"""The sockets ``serving`` binds: answers leave at once on every event loop (TCP_NODELAY).

asyncio sets TCP_NODELAY only on accepted sockets whose protocol is IPPROTO_TCP (uvloop on all of
them); a listening socket made with protocol 0 passed that 0 on, and a response written as head
then body waited for the client's delayed ACK, about 40 ms a request, on the stdlib loop that
``serve_in_thread`` used (and that uvicorn uses wherever uvloop is not installed).
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from mock_server.serving import bind_socket


def test_bound_sockets_name_tcp() -> None:
    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


@pytest.mark.parametrize("loop_factory", [asyncio.new_event_loop, pytest.param("uvloop", id="uvloop")])
def test_accepted_connections_have_nodelay_on_every_loop(loop_factory) -> None:  # type: ignore[no-untyped-def]
    if loop_factory == "uvloop":
        uvloop = pytest.importorskip("uvloop")
        loop_factory = uvloop.new_event_loop
    listening = bind_socket("127.0.0.1", 0)
    port = listening.getsockname()[1]
    seen: list[int] = []

    async def scenario() -> None:
        accepted = asyncio.Event()

        def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()
            accepted.set()

        server = await asyncio.start_server(handle, sock=listening)
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.wait_for(accepted.wait(), 10)
        writer.close()
        server.close()
        await server.wait_closed()

    loop = loop_factory()
    try:
        loop.run_until_complete(scenario())
    finally:
        loop.close()
    assert seen and seen[0] != 0
