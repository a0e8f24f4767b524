"""Big-state benchmark: ``askara-mock serve --documents 100000`` paged through while retries fire.

    .venv/bin/python bench/bench_bigstate.py [--documents 100000] [--items-per-page 30]
                                             [--max-pages 0] [--event-rate 20] [--json]

What it does, all on 127.0.0.1, bounded by ``--deadline`` seconds:

1. Starts the real command, ``askara-mock serve --documents N`` (uvicorn, uvloop), on a scaled
   clock (``--time-scale 0.1``: the retries 5/15/35 mock seconds after a first attempt come
   0.5/1.5/3.5 s later in real time, and the 1 h access token lasts 6 real minutes, longer than
   the run) with one webhook (``--webhook-url``) pointing at a loopback port nobody listens on,
   so every delivery is refused at once and retried three times.
   ``ready`` is spawn -> first 200 of ``GET /_mock/clock`` (import, seed, sorted views, bind).
2. Takes a ``read:documents`` token as an integration does, then pages ``GET /documents`` from
   page 1 to the last (every page once: the body cache never answers), then every page of
   ``?synchronized=false``; one client, keep-alive, latency measured around each request.
   ``--max-pages`` > 0 samples that many pages evenly across each instead.
3. Meanwhile, every ``1 / --event-rate`` seconds between two pages, one hand-made event goes
   to the webhook (``POST /_mock/webhooks/{uuid}/send``): each is four timers in the mock
   (the first attempt and three retries) firing while the pages are served.
4. **Timer lateness** is read from the mock's own delivery log: each attempt records the mock
   time it was due (``scheduled_at``) and the mock time it started (``at``); (at - scheduled_at)
   x scale is how late, in real seconds, the event loop let that timer run. This is the figure
   a list page that blocks the loop for 200 ms would spoil, and it needs no hook in the mock.
5. RSS: ``VmRSS`` and ``VmHWM`` (peak) of the server process from ``/proc`` after paging.
6. After the server stops: ``seed_store`` and ``create_app`` timed in this process for the same N
   (the seed alone; the seed + views + wiring), median of ``--seed-runs``.

Prints a table; always exits 0 (it measures, it does not judge).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from bench_api import free_port, take_token
from bench_startup import stop

HOST = "127.0.0.1"
COMMAND = str(Path(sys.executable).parent / "askara-mock")
SCALE = 0.1
GOALS = {"pages": "p99 < 20 ms", "synchronized=false": "p99 < 20 ms", "timer lateness": "p99 < 10 ms"}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1)]


def start_serve(documents: int, port: int, hook_port: int, deadline: float) -> tuple[subprocess.Popen[bytes], float]:
    argv = [COMMAND, "serve", "--host", HOST, "--port", str(port), "--files-port", str(free_port()),
            "--documents", str(documents), "--clock", "scaled", "--time-scale", str(SCALE),
            "--rate-limit-capacity", "0", "--webhook-url", f"http://{HOST}:{hook_port}/hook"]  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    until = started + deadline
    while time.perf_counter() < until:
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited with {proc.returncode}")
        try:
            if httpx.get(f"http://{HOST}:{port}/_mock/clock", timeout=1.0).status_code == 200:
                return proc, time.perf_counter() - started
        except httpx.TransportError:
            pass
        time.sleep(0.005)
    proc.kill()
    raise RuntimeError(f"serve did not answer within {deadline} s")


def page_numbers(total: int, per_page: int, max_pages: int) -> list[int]:
    last = max(1, math.ceil(total / per_page))
    if max_pages <= 0 or max_pages >= last:
        return list(range(1, last + 1))
    return sorted({1 + round(i * (last - 1) / (max_pages - 1)) for i in range(max_pages)}) if max_pages > 1 else [1]


class Pager:
    """One keep-alive client paging a list and sending an event to the webhook now and then."""

    def __init__(self, base: str, token: str, webhook: str, event_rate: float, until: float) -> None:
        self.http = httpx.Client(base_url=base, timeout=30.0)
        self.auth = {"Authorization": f"Bearer {token}"}
        self.webhook, self.until = webhook, until
        self.gap = 1.0 / event_rate if event_rate > 0 else math.inf
        self.next_event = time.perf_counter()
        self.sent = 0
        self.errors = 0

    def total(self, params: dict[str, str]) -> int:
        answer = self.http.get("/documents", params={**params, "itemsPerPage": "1"},
                               headers={**self.auth, "Accept": "application/ld+json"})  # fmt: skip
        return int(answer.raise_for_status().json()["totalItems"])

    def pages(self, params: dict[str, str], numbers: list[int], per_page: int) -> list[float]:
        latencies: list[float] = []
        for number in numbers:
            if time.perf_counter() > self.until:
                break
            query = {**params, "page": str(number), "itemsPerPage": str(per_page)}
            start = time.perf_counter()
            answer = self.http.get("/documents", params=query, headers=self.auth)
            latencies.append(time.perf_counter() - start)
            self.errors += answer.status_code != 200
            self.maybe_send()
        return latencies

    def maybe_send(self) -> None:
        if time.perf_counter() < self.next_event:
            return
        self.next_event += self.gap
        body = {"events": [{"id": f"bench-{self.sent}", "action": "bench_tick", "resource_type": "Document"}]}
        answer = self.http.post(f"/_mock/webhooks/{self.webhook}/send", json=body)
        self.errors += answer.status_code >= 400
        self.sent += 1


def timer_lateness(base: str) -> list[float]:
    """Real seconds each attempt started after it was due, from the mock's delivery log."""
    deliveries = httpx.get(f"{base}/_mock/deliveries", timeout=30.0).raise_for_status().json()
    items = deliveries["items"] if isinstance(deliveries, dict) else deliveries
    return [(a["at"] - a["scheduled_at"]) * SCALE for d in items for a in d.get("attempts", [])
            if a.get("kind") in ("scheduled", "retry") and a.get("scheduled_at") is not None]  # fmt: skip


def rss_mb(pid: int) -> tuple[float, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.split()
    return int(fields["VmRSS"][0]) / 1024, int(fields["VmHWM"][0]) / 1024


def in_process_seed(documents: int, runs: int) -> tuple[float, float]:
    """Median seconds of ``seed_store`` alone and of ``create_app`` (seed, views, wiring) for ``documents``."""
    from mock_server import Settings, create_app
    from mock_server.core.context import MockContext
    from mock_server.domain.seed import seed_store

    seeds, apps = [], []
    for _ in range(runs):
        settings = Settings(seed_documents=documents, clock="manual", clock_start=1_780_000_000.0)
        ctx = MockContext(settings)
        start = time.perf_counter()
        seed_store(ctx)
        seeds.append(time.perf_counter() - start)
        del ctx
        start = time.perf_counter()
        create_app(settings)
        apps.append(time.perf_counter() - start)
    return statistics.median(seeds), statistics.median(apps)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    until = time.perf_counter() + args.deadline
    port = free_port()
    proc, ready = start_serve(args.documents, port, free_port(), args.deadline)
    base = f"http://{HOST}:{port}"
    try:
        token = take_token(base)
        webhook = httpx.get(f"{base}/_mock/webhooks").raise_for_status().json()
        webhook_id = (webhook["items"] if isinstance(webhook, dict) else webhook)[0]["uuid"]
        pager = Pager(base, token, webhook_id, args.event_rate, until)
        per_page = args.items_per_page
        figures: dict[str, Any] = {"documents": args.documents, "per_page": per_page, "ready_s": ready}
        for name, params in (("pages", {}), ("synchronized=false", {"synchronized": "false"})):
            numbers = page_numbers(pager.total(params), per_page, args.max_pages)
            figures[name] = pager.pages(params, numbers, per_page)
        time.sleep(35 * SCALE + 0.5)  # the last retries are due 35 mock seconds after their event
        figures["timer lateness"] = timer_lateness(base)
        figures["events"], figures["errors"] = pager.sent, pager.errors
        figures["rss_mb"], figures["peak_rss_mb"] = rss_mb(proc.pid)
    finally:
        stop(proc)
    if args.seed_runs > 0:
        figures["seed_s"], figures["create_app_s"] = in_process_seed(args.documents, args.seed_runs)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--items-per-page", type=int, default=30)
    parser.add_argument("--max-pages", type=int, default=0, help="0: every page; else that many, evenly spread.")
    parser.add_argument("--event-rate", type=float, default=20.0, help="Events sent to the webhook per second.")
    parser.add_argument("--seed-runs", type=int, default=3, help="In-process seed timings (0: skip).")
    parser.add_argument("--deadline", type=float, default=240.0, help="Seconds the HTTP phase may take at most.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    figures = measure(args)
    if args.json:
        print(json.dumps({"load": load, **figures}))
        return
    print(f"askara-mock big state: {args.documents} documents, {args.items_per_page} per page, load {load:.2f}")
    print(f"{'what':<22} {'count':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  goal")
    for name in ("pages", "synchronized=false", "timer lateness"):
        values = figures[name]
        row = [percentile(values, 50), percentile(values, 99), max(values, default=math.nan)]
        print(f"{name:<22} {len(values):>6} " + " ".join(f"{v * 1000:>8.2f}" for v in row) + f"  {GOALS[name]}")
    print(f"ready (spawn -> 200)   {figures['ready_s']:.2f} s")
    if "seed_s" in figures:
        print(f"seed_store in-process  {figures['seed_s']:.2f} s; create_app {figures['create_app_s']:.2f} s")
    print(f"RSS after paging       {figures['rss_mb']:.0f} MB (peak {figures['peak_rss_mb']:.0f} MB)  goal < 400 MB")
    print(f"events sent {figures['events']}, non-2xx answers {figures['errors']}")


if __name__ == "__main__":
    main()
