"""Hostile clients over raw sockets on 127.0.0.1: header size (431), header timeout (408), idle
connections closed, the connection limit (503). Each limit is set small and short through settings."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable

import pytest

from mock_server.serving import RunningMock

pytestmark = pytest.mark.e2e

GET = b"GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n"


def connect(mock: RunningMock, *, files: bool = False) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", mock.settings.files_port if files else mock.settings.port), 5)
    sock.settimeout(5)
    return sock


def read_answer(sock: socket.socket) -> bytes:
    """Everything until the server closes (the refusals close), within the socket's timeout."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def status_and_problem(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head.lower()
    return int(head.split()[1]), json.loads(body)


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """True when the server closes the connection within ``seconds`` (an EOF or a reset)."""
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            if sock.recv(65536) == b"":  # the rest of an answer may still arrive first: drain it
                return True
        return False
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_a_head_beyond_max_header_bytes_is_refused_431(live_mock: Callable[..., RunningMock]) -> None:
    mock = live_mock(max_header_bytes=4096)
    with connect(mock) as sock:  # within the limit: answered normally
        sock.sendall(GET + b"X-Pad: " + b"a" * 3000 + b"\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    with connect(mock) as sock:  # one complete header beyond the limit
        sock.sendall(GET + b"X-Pad: " + b"a" * 5000 + b"\r\n\r\n")
        status, problem = status_and_problem(read_answer(sock))
    assert status == 431
    assert "4096 bytes (max_header_bytes)" in problem["detail"]
    with connect(mock, files=True) as sock:  # a head that never ends is refused once past the limit
        sock.sendall(GET)
        for _ in range(20):
            try:
                sock.sendall(b"X-Pad: " + b"a" * 1000 + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
        status, _ = status_and_problem(read_answer(sock))
    assert status == 431


def test_a_head_not_finished_within_header_timeout_is_refused_408(live_mock: Callable[..., RunningMock]) -> None:
    mock = live_mock(header_timeout=0.4, keep_alive_timeout=30)
    with connect(mock) as sock:
        sock.sendall(GET)  # the headers never end: one more byte now and then
        started = time.monotonic()
        sock.sendall(b"X")
        answer = read_answer(sock)
        elapsed = time.monotonic() - started
    status, problem = status_and_problem(answer)
    assert status == 408
    assert "0.4 s (header_timeout)" in problem["detail"]
    assert elapsed < 4  # generous: the point is that it closed at all
    with connect(mock) as sock:  # a complete head in time is answered
        sock.sendall(GET + b"\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")


def test_idle_connections_are_closed_after_keep_alive_timeout(live_mock: Callable[..., RunningMock]) -> None:
    mock = live_mock(keep_alive_timeout=0.5)
    fresh = [connect(mock) for _ in range(20)]  # never send a byte
    used = connect(mock, files=True)
    used.sendall(b"GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert used.recv(65536).startswith(b"HTTP/1.1 ")
    try:
        assert all(closed_within(sock, 5) for sock in [*fresh, used])
    finally:
        for sock in [*fresh, used]:
            sock.close()


def test_idle_connections_stay_open_within_keep_alive_timeout(live_mock: Callable[..., RunningMock]) -> None:
    mock = live_mock(keep_alive_timeout=30)
    with connect(mock) as sock:
        assert not closed_within(sock, 0.5)
        sock.sendall(GET + b"\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")


def test_requests_beyond_max_connections_are_answered_503(live_mock: Callable[..., RunningMock]) -> None:
    mock = live_mock(max_connections=3, keep_alive_timeout=30)
    held = [connect(mock) for _ in range(2)]
    try:
        with connect(mock) as third:  # the third of three: served
            third.sendall(GET + b"\r\n")
            assert third.recv(65536).startswith(b"HTTP/1.1 200")
            with connect(mock) as fourth:
                fourth.sendall(GET + b"\r\n")
                assert fourth.recv(65536).startswith(b"HTTP/1.1 503")
    finally:
        for sock in held:
            sock.close()
