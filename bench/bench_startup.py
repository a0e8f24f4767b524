"""Start-up benchmark: how long people wait for ``askara-mock`` itself, before any request work.

    .venv/bin/python bench/bench_startup.py [--runs 7] [--json]

Three wall times, each the median of ``--runs`` fresh processes (``subprocess`` +
``time.perf_counter``; hyperfine may not be installed), all on 127.0.0.1:

* ``help``: ``askara-mock --help`` to exit.
* ``client``: ``askara-mock deliveries`` (a control-API client command) against a mock already
  running, to exit: import, one HTTP request, print.
* ``serve``: from spawning ``askara-mock serve`` to the first 200 of ``GET /_mock/clock``, polled
  every 2 ms over fresh connections (the poll itself costs ~0.1-0.6 ms, so the figure is at most
  ~3 ms late). The process is then terminated.

The command is the console script next to this interpreter (``.venv/bin/askara-mock``), or
``--command PATH``: the console script of a virtualenv the wheel was installed into, as users get
it (no editable-install finder on ``sys.path``, bytecode compiled by pip). The children run with
``PYTHONDONTWRITEBYTECODE`` removed from their environment and after one warm-up run, so a
checkout's modules are read from bytecode as a user's are, not compiled from source each time
(that alone cost ``serve`` ~190 ms of CPU where the variable was set).

Each figure also comes as CPU time (user + system of the child, from ``getrusage``): on a shared
machine the wall time is mostly waiting for a core, the CPU time is what the command costs (for
``serve`` it runs until the process is stopped, a few ms after its first answer).
Always exits 0: it measures, it does not judge.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

HOST = "127.0.0.1"
COMMAND = str(Path(sys.executable).parent / "askara-mock")
CHILD_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
GOALS = {"help": None, "client": 0.15, "serve": 0.25}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start_serve(command: str, port: int) -> subprocess.Popen[bytes]:
    """``command serve`` on ``port``, quiet, with bytecode (:data:`CHILD_ENV`)."""
    return subprocess.Popen(serve_argv(command, port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=CHILD_ENV)  # fmt: skip


def serve_argv(command: str, port: int) -> list[str]:
    return [command, "serve", "--host", HOST, "--port", str(port), "--files-port", str(free_port())]


def wait_ready(proc: subprocess.Popen[bytes], url: str, deadline: float) -> float:
    """perf_counter() when ``url`` first answered 200 (fresh connection per poll).

    ``http.client``, not ``httpx.get``: each ``httpx.get`` builds a client and its TLS context,
    ~38 ms per poll here, which made the figure up to that much late (before 2026-12-02)."""
    parts = urlsplit(url)
    until = time.perf_counter() + deadline
    while time.perf_counter() < until:
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited with {proc.returncode} before answering")
        connection = http.client.HTTPConnection(parts.hostname or HOST, parts.port, timeout=1.0)
        try:
            connection.request("GET", parts.path)
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                return time.perf_counter()
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.002)
    raise RuntimeError(f"serve did not answer 200 on {url} within {deadline} s")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def time_serve(command: str, deadline: float = 30.0) -> tuple[float, float]:
    """(wall seconds to the first 200, CPU seconds of the process)."""
    port = free_port()
    cpu, start = children_cpu(), time.perf_counter()
    proc = start_serve(command, port)
    try:
        ready = wait_ready(proc, f"http://{HOST}:{port}/_mock/clock", deadline) - start
    finally:
        stop(proc)
    return ready, children_cpu() - cpu


def time_command(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of ``argv``."""
    cpu, start = children_cpu(), time.perf_counter()
    result = subprocess.run(argv, capture_output=True, timeout=60, env=env)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {result.returncode}: {result.stderr.decode()[-500:]}")
    return elapsed, children_cpu() - cpu


def measure(runs: int, command: str = COMMAND) -> dict[str, list[tuple[float, float]]]:
    samples: dict[str, list[tuple[float, float]]] = {"help": [], "client": [], "serve": []}
    port = free_port()
    mock = start_serve(command, port)
    try:
        wait_ready(mock, f"http://{HOST}:{port}/_mock/clock", 30.0)
        client = [command, "deliveries", "--mock-url", f"http://{HOST}:{port}"]
        env = {**CHILD_ENV, "NO_COLOR": "1"}
        time_command([command, "--help"], env)  # warm-up: writes the bytecode of a checkout's modules
        time_command(client, env)
        for _ in range(runs):  # interleaved, so a burst of load elsewhere hits every figure alike
            samples["help"].append(time_command([command, "--help"], env))
            samples["client"].append(time_command(client, env))
            samples["serve"].append(time_serve(command))
    finally:
        stop(mock)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="Print the figures as one JSON object.")
    parser.add_argument("--command", default=COMMAND, help="The askara-mock console script to time "
                        "(default: the one beside this interpreter).")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    samples = measure(max(1, args.runs), args.command)
    walls = {name: [wall for wall, _ in values] for name, values in samples.items()}
    cpus = {name: [cpu for _, cpu in values] for name, values in samples.items()}
    medians = {name: statistics.median(values) for name, values in walls.items()}
    cpu_medians = {name: statistics.median(values) for name, values in cpus.items()}
    if args.json:
        print(json.dumps({"command": args.command, "load": load, "runs": args.runs, "median_s": medians,
                          "median_cpu_s": cpu_medians, "samples_s": walls, "samples_cpu_s": cpus}))
        return
    print(f"askara-mock start-up ({args.command}), {args.runs} runs each, load {load:.2f}")
    print(f"{'what':<8} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'cpu ms':>8} {'goal ms':>8}")
    for name, values in walls.items():
        goal = GOALS[name]
        print(f"{name:<8} {medians[name] * 1000:>10.0f} {min(values) * 1000:>8.0f} {max(values) * 1000:>8.0f} "
              f"{cpu_medians[name] * 1000:>8.0f} {'-' if goal is None else f'{goal * 1000:.0f}':>8}")


if __name__ == "__main__":
    main()
