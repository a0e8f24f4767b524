"""An integration that accepts connections and reads requests but never answers, ignores SIGTERM,
and leaves a child process running: the harness must time out its deliveries and still kill the
whole process group."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading

from common import arguments, listener, record_pid

STUBBORN_CHILD = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"


def swallow(connection) -> None:  # type: ignore[no-untyped-def]
    """Read forever, answer never."""
    with connection:
        while connection.recv(65536):
            pass


def main() -> None:
    args = arguments(__doc__ or "")
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    record_pid(args.pid_file)
    child = subprocess.Popen([sys.executable, "-c", STUBBORN_CHILD])
    record_pid(args.pid_file, child.pid)
    server = listener(args.port)
    while True:
        connection, _ = server.accept()
        threading.Thread(target=swallow, args=(connection,), daemon=True).start()


if __name__ == "__main__":
    main()
