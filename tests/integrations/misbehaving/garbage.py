"""An integration that answers every request with bytes that are not HTTP: each delivery attempt
must be judged failed, not crash the harness or the mock."""

from __future__ import annotations

import threading

from common import arguments, listener, record_pid

GARBAGE = b"\x00\xff\xfeTHIS IS NOT HTTP\r\n\x1b[31m\x00\x00garbage garbage\r\n\r\n"


def answer(connection) -> None:  # type: ignore[no-untyped-def]
    with connection:
        try:
            connection.recv(65536)
            connection.sendall(GARBAGE)
        except OSError:
            pass


def main() -> None:
    args = arguments(__doc__ or "")
    record_pid(args.pid_file)
    server = listener(args.port)
    while True:
        connection, _ = server.accept()
        threading.Thread(target=answer, args=(connection,), daemon=True).start()


if __name__ == "__main__":
    main()
