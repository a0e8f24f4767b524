"""An integration that starts, records its pid and never opens its port: the harness must give up
after ``--startup-timeout`` with exit status 2 and kill it."""

from __future__ import annotations

import time

from common import arguments, record_pid


def main() -> None:
    args = arguments(__doc__ or "")
    record_pid(args.pid_file)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
