"""Hostile clients against a real ``askara-mock serve``: what each limit does, and when.

    python bench/bench_hostile.py [--idle 200] [--json]

One mock process on loopback with its limits shortened so the run takes seconds
(``--keep-alive-timeout 2 --header-timeout 3 --max-connections 300``; the defaults are 5 s, 30 s and
1000). Measured from outside, with raw sockets:

- ``idle``: that many connections that each made one request and then sit idle: how many the mock
  has closed one second after the keep-alive timeout, and how many never got an answer;
- ``slow headers``: a client sending one header byte every 0.5 s: when the mock answered 408 and
  closed (the header timeout);
- ``big header``: a 16 MB header: the status and how fast it came (431 past 64 KiB);
- ``over the limit``: connections held open up to ``--max-connections``, then one more: its status.

Bounded: at most 1000 connections, every wait capped; 127.0.0.1 only. Prints a table or JSON.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
from typing import Any

from mock_server.serving import free_port

KEEP_ALIVE, HEADER_TIMEOUT, MAX_CONNECTIONS = 2.0, 3.0, 300
REQUEST = b"GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def start(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from mock_server.cli import main; main()", "serve", "--port", str(port),
               "--files-port", str(free_port()), "--keep-alive-timeout", str(KEEP_ALIVE),
               "--header-timeout", str(HEADER_TIMEOUT), "--max-connections", str(MAX_CONNECTIONS)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the mock did not start")


def status_of(sock: socket.socket, timeout: float) -> int | None:
    """The status of the answer on ``sock`` (reading the whole head), or None on a close without one."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    return int(data.split(b" ", 2)[1])


def closed(sock: socket.socket) -> bool:
    sock.settimeout(0.01)
    try:
        return sock.recv(65536) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def idle(port: int, count: int) -> dict[str, Any]:
    socks = []
    unanswered = 0
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(REQUEST)
        if status_of(sock, 10) != 200:
            unanswered += 1
        socks.append(sock)
    time.sleep(KEEP_ALIVE + 1.0)  # the bench waits on the mock's real-time limit: that is what it measures
    # Drain what is left of each answer's body before judging the close.
    closed_count = sum(1 for sock in socks if _drained_and_closed(sock))
    for sock in socks:
        sock.close()
    return {"connections": count, "unanswered": unanswered, "closed_after_keep_alive": closed_count}


def _drained_and_closed(sock: socket.socket) -> bool:
    sock.settimeout(0.2)
    try:
        while True:
            if sock.recv(1 << 20) == b"":
                return True
    except TimeoutError:
        return closed(sock)
    except OSError:
        return True


def slow_headers(port: int) -> dict[str, Any]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    started = time.monotonic()
    sock.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    sock.settimeout(0.5)
    status = None
    while time.monotonic() - started < HEADER_TIMEOUT * 4:
        try:
            sock.sendall(b"a")
            data = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            break
        if data:
            status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else None
        break
    sock.close()
    return {"status": status, "closed_after_s": round(time.monotonic() - started, 2)}


def big_header(port: int) -> dict[str, Any]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    started = time.monotonic()
    status = None
    try:
        sock.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        for _ in range(16 * 16):  # 16 MB in 64 KiB pieces; the mock answers long before the end
            sock.sendall(b"a" * 65536)
    except OSError:
        pass
    try:
        status = status_of(sock, 5)
    except OSError:
        pass
    sock.close()
    return {"status": status, "answered_in_ms": round((time.monotonic() - started) * 1000, 1)}


def over_the_limit(port: int) -> dict[str, Any]:
    held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(MAX_CONNECTIONS)]
    for sock in held:
        sock.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # headers never finished
    time.sleep(0.5)
    extra = socket.create_connection(("127.0.0.1", port), timeout=10)
    extra.sendall(REQUEST)
    status = status_of(extra, 5)
    for sock in [*held, extra]:
        sock.close()
    return {"held": MAX_CONNECTIONS, "next_connection_status": status}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=200, help="idle keep-alive connections (at most 250)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not 1 <= args.idle <= MAX_CONNECTIONS - 50:
        parser.error(f"--idle must be 1..{MAX_CONNECTIONS - 50}")
    port = free_port()
    process = start(port)
    try:
        figures = {"idle": idle(port, args.idle), "slow_headers": slow_headers(port), "big_header": big_header(port),
                   "over_the_limit": over_the_limit(port),
                   "limits": {"keep_alive_s": KEEP_ALIVE, "header_timeout_s": HEADER_TIMEOUT,
                              "max_connections": MAX_CONNECTIONS}}  # fmt: skip
    finally:
        process.terminate()
        process.wait(10)
    if args.json:
        print(json.dumps(figures))
        return
    for name, values in figures.items():
        print(f"{name:<16} " + ", ".join(f"{k} {v}" for k, v in values.items()))


if __name__ == "__main__":
    main()
