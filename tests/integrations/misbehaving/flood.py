"""An integration that acknowledges deliveries but does no work: it hammers the mock's API in a
loop from several threads, ignoring every 429. The run must still end within its --timeout, with
the rate-limit check failed."""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from common import arguments, record_pid

API = os.environ.get("ASKARA_API_URL", "")
THREADS = 4


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


def access_token() -> str:
    body = json.dumps(
        {
            "grant_type": "refresh_token",
            "refresh_token": os.environ["ASKARA_REFRESH_TOKEN"],
            "client_id": os.environ["ASKARA_CLIENT_ID"],
            "client_secret": os.environ["ASKARA_CLIENT_SECRET"],
        }
    ).encode()
    request = urllib.request.Request(
        f"{API}/oauth2/token", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback mock
        return str(json.loads(response.read())["access_token"])


def hammer(token: str) -> None:
    while True:
        request = urllib.request.Request(f"{API}/documents", headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback mock
                response.read()
        except urllib.error.HTTPError as error:
            error.read()
        except OSError:
            pass


def main() -> None:
    args = arguments(__doc__ or "")
    record_pid(args.pid_file)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    token = access_token()
    workers = [threading.Thread(target=hammer, args=(token,), daemon=True) for _ in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


if __name__ == "__main__":
    main()
