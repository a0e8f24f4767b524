"""Shared bits of the misbehaving integrations: arguments, the pid file, a raw loopback listener.

Each script is a separate client program (stdlib only, never imports mock_server) so the harness
treats it exactly like a vendor's integration. It writes its pid (and any child's) to
``--pid-file`` so a test can prove the harness left no process behind.
"""

from __future__ import annotations

import argparse
import os
import socket


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--pid-file", required=True)
    return parser.parse_args()


def record_pid(pid_file: str, pid: int | None = None) -> None:
    """Append a pid (ours by default): one per line, so a script may record its children too."""
    with open(pid_file, "a", encoding="utf-8") as handle:
        handle.write(f"{pid or os.getpid()}\n")


def listener(port: int) -> socket.socket:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(64)
    return server
