"""Durability keeps time: SIGKILL a scaled-clock mock with deliveries pending, restart it, measure lateness.

    python bench/bench_restart.py [--notes 200] [--scale 0.5] [--json]

A real ``askara-mock serve --state FILE --clock scaled`` process, a receiver on loopback that answers
500 to everything (so every delivery walks its retries at +5, +15 and +35 mock seconds), ``--notes``
deliveries created at once. Once every first attempt is made the mock is killed (SIGKILL: no
shutdown hook runs) and started again on the same state file. A retry that fell due while the mock
was down fires at once on restart; a retry due after the restart must fire at its recorded time.
Lateness is measured in real seconds against the uninterrupted clock: the first attempt's wall time
plus the mock seconds to the retry times the scale. Bounded: at most 10 000 notes, 120 s per wait;
loopback only. Prints a table (or one JSON object with ``--json``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx

from mock_server.serving import free_port
from mock_server.testing.receiver import receiver_in_thread

START = 1_780_000_000.0


def serve(state: Path, port: int, scale: float) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from mock_server.cli import main; main()", "serve", "--state", str(state),
               "--clock", "scaled", "--time-scale", str(scale), "--clock-start", str(START),
               "--port", str(port), "--files-port", str(free_port()), "--client-secret", "s3cret"]
    with state.with_suffix(".log").open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log)
    poll(lambda: _answers(port) or process.poll() is not None, "the mock to start", 60)
    if process.poll() is not None:
        raise RuntimeError(state.with_suffix(".log").read_text())
    return process


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/_mock/clock", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def poll(predicate: Callable[[], object], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


def deliveries(api: httpx.Client) -> list[dict[str, Any]]:
    return list(api.get("/_mock/deliveries", params={"limit": 100_000}).json()["items"])


def measure(notes: int, scale: float, workdir: Path) -> dict[str, Any]:
    """One kill-and-restart run; the figures of the retries due after the restart, in real seconds."""
    state, port = workdir / "state.db", free_port()
    with receiver_in_thread() as rx:
        process = serve(state, port, scale)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as api:
                token = api.get("/_mock/credentials").json()["access_token"]
                hook = api.post("/webhooks", headers={"Authorization": f"Bearer {token}"},
                                json={"url": rx.url("/status/500"), "events": ["new_note"], "active": True})
                hook.raise_for_status()
                for _ in range(notes):
                    api.post("/_mock/notes", json={}).raise_for_status()
                poll(lambda: sum(1 for d in deliveries(api) if d["attempts"]) == notes, "every first attempt")
                before_kill = float(api.get("/_mock/clock").json()["now"])
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)
            killed = time.monotonic()
            process = serve(state, port, scale)
            restart_s = time.monotonic() - killed
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as api:
                resumed_at = float(api.get("/_mock/clock").json()["now"])
                poll(lambda: all(d["state"] == "failed" for d in deliveries(api)), "the failure queue")
                records = deliveries(api)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
    late, overdue, schedules = [], 0, set()
    for delivery in records:
        first, *retries = delivery["attempts"]
        schedules.add(tuple(round(a["scheduled_at"] - delivery["created_at"], 3) for a in delivery["attempts"]))
        for attempt in retries:
            if attempt["scheduled_at"] > resumed_at:
                late.append(attempt["wall"] - (first["wall"] + (attempt["scheduled_at"] - first["at"]) * scale))
            else:
                overdue += 1
    ms = [round(x * 1000, 1) for x in sorted(late)]
    return {
        "notes": notes, "scale": scale, "restart_s": round(restart_s, 3),
        "clock_gap_s": round(resumed_at - before_kill, 3), "schedules": sorted(schedules),
        "overdue_at_restart": overdue, "resumed_after_restart": len(late),
        "late_p50_ms": statistics.median(ms) if ms else None,
        "late_p99_ms": ms[max(0, int(len(ms) * 0.99) - 1)] if ms else None,
        "late_max_ms": ms[-1] if ms else None,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=200, help="deliveries pending at the kill (at most 10 000)")
    parser.add_argument("--scale", type=float, default=0.5, help="real seconds per mock second")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not 1 <= args.notes <= 10_000:
        parser.error("--notes must be 1..10000")
    with TemporaryDirectory(prefix="askara-bench-restart-") as workdir:
        figures = measure(args.notes, args.scale, Path(workdir))
    if args.json:
        print(json.dumps(figures))
        return
    for key, value in figures.items():
        print(f"{key:<24} {value}")


if __name__ == "__main__":
    main()
