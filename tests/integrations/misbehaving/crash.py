"""An integration that answers the first webhook delivery 200 and then exits with status 3: the
harness must notice mid-run, say so, and not wait for work that will never come."""

from __future__ import annotations

import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from common import arguments, record_pid


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
        self.wfile.flush()
        sys.stderr.write("crash: first delivery answered, exiting\n")
        sys.stderr.flush()
        os._exit(3)

    def log_message(self, *_args: object) -> None:
        pass


def main() -> None:
    args = arguments(__doc__ or "")
    record_pid(args.pid_file)
    HTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
