"""Webhook sender benchmark: deliveries per second to a local sink, delivery latency, timer lateness.

    .venv/bin/python bench/bench_sender.py [--events 2500] [--rate 500] [--seconds 4]

A sink process (uvloop, raw protocol, keep-alive) listens on 4 ports; 4 webhooks (one per
port, so "one client per destination" means something) subscribe to ``new_note``; each event
is one delivery per webhook. For each transport (aiohttp, httpx one client per destination,
httpx one shared client) on uvloop:

* burst: ``--events`` events at once; deliveries/s = deliveries / wall time until all answered.
* paced: ``--rate`` events/s (x4 deliveries/s) for ``--seconds`` while the sink answers 500 to
  one request in 10, so retries (scaled clock 0.01: 50/100/200 ms) run under load; reports p50/p99
  of event-to-answer latency of first attempts and p99 of ``ctx.timers.lateness_samples``.

Bounded: every phase stops after a deadline. Goals (2 cores): >= 2000 deliveries/s, p99 delivery
latency <= 50 ms, timer lateness p99 <= 10 ms. Results are written up in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import time
from typing import Any

WEBHOOKS = 4


def _sink(ports: list[int], ready: Any, fail_every: int) -> None:
    import uvloop

    class Sink(asyncio.Protocol):
        count = 0

        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            self.buffer = b""

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            while True:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = self.buffer[:end].lower()
                start = head.find(b"content-length:")
                length = int(head[start + 15 : head.find(b"\r\n", start) if head.find(b"\r\n", start) > 0 else None])
                if len(self.buffer) < end + 4 + length:
                    return
                self.buffer = self.buffer[end + 4 + length :]
                Sink.count += 1
                status = b"500 Internal Server Error" if fail_every and Sink.count % fail_every == 0 else b"200 OK"
                self.transport.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\nContent-Type: application/json"
                                     b"\r\n\r\n{}")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for port in ports:
            await loop.create_server(Sink, "127.0.0.1", port, backlog=1024)
        ready.set()
        await asyncio.Event().wait()

    uvloop.run(main())


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Counting:
    """Wraps a transport to count answered posts (so the bench need not scan the log)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.done = inner, 0

    async def post(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await self.inner.post(*args, **kwargs)
        finally:
            self.done += 1

    async def close(self) -> None:
        await self.inner.close()


async def run_transport(name: str, factory: Any, ports: list[int], args: argparse.Namespace) -> dict[str, Any]:
    from mock_server.webhooks.testing import add_webhook, build_context, emit_note, sender_settings, start, stop

    counting = Counting(factory())
    settings = sender_settings(clock="scaled", time_scale=0.01, clock_start=None, delivery_limit=1_000_000)
    ctx = build_context(settings, counting)  # type: ignore[arg-type]
    await start(ctx)
    for port in ports:
        add_webhook(ctx, f"http://127.0.0.1:{port}/hook", ["new_note"])
    result: dict[str, Any] = {"transport": name}
    # warm-up: open connections
    for _ in range(50):
        emit_note(ctx)
    await _wait(counting, 50 * WEBHOOKS, 10)

    # burst
    target = counting.done + args.events * WEBHOOKS
    started = time.perf_counter()
    for _ in range(args.events):
        emit_note(ctx)
    finished = await _wait(counting, target, 60)
    result["burst_per_s"] = (args.events * WEBHOOKS) / (time.perf_counter() - started) if finished else 0.0

    # paced, with 10% failures and their retries
    ctx.timers.lateness_samples.clear()
    emitted: dict[str, float] = {}
    tick = 0.01
    began, sent = time.perf_counter(), 0.0
    while time.perf_counter() - began < args.seconds:
        due = (time.perf_counter() - began) * args.rate
        while sent < due:
            event = emit_note(ctx)
            emitted[event["event_id"]] = time.time()
            sent += 1
        await asyncio.sleep(tick - (time.perf_counter() - began) % tick)
    await asyncio.sleep(0.6)  # let the last retries (200 ms scaled) run
    latencies = []
    for delivery in ctx.store.deliveries:
        emitted_at = emitted.get(delivery["event_ids"][0])
        if emitted_at is None or not delivery["attempts"]:
            continue
        first = delivery["attempts"][0]
        latencies.append((first["wall"] + first["latency_ms"] / 1000 - emitted_at) * 1000)
    lateness = [s * 1000 for s in ctx.timers.lateness_samples]
    result.update(
        paced_per_s=args.rate * WEBHOOKS,
        latency_p50_ms=statistics.median(latencies) if latencies else float("nan"),
        latency_p99_ms=percentile(latencies, 0.99),
        timer_lateness_p99_ms=percentile(lateness, 0.99),
        retries=sum(1 for d in ctx.store.deliveries for a in d["attempts"] if a["kind"] == "retry"),
    )
    await stop(ctx)
    return result


async def _wait(counting: Counting, target: int, timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while counting.done < target:
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.002)
    return True


def main() -> None:
    import uvloop

    from mock_server.serving import free_port
    from mock_server.webhooks.transport import AiohttpTransport, HttpxTransport

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2500, help="events in the burst (x4 deliveries)")
    parser.add_argument("--rate", type=int, default=500, help="events per second in the paced phase (x4 deliveries)")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--only", choices=("aiohttp", "httpx-per-destination", "httpx-shared"), default=None)
    args = parser.parse_args()

    ports = [free_port() for _ in range(WEBHOOKS)]
    ready = multiprocessing.get_context("spawn").Event()
    sink = multiprocessing.get_context("spawn").Process(target=_sink, args=(ports, ready, 10), daemon=True)
    sink.start()
    ready.wait(20)
    transports = {
        "aiohttp": AiohttpTransport,
        "httpx-per-destination": lambda: HttpxTransport(per_destination=True),
        "httpx-shared": lambda: HttpxTransport(per_destination=False),
    }
    rows = []
    try:
        for name, factory in transports.items():
            if args.only and name != args.only:
                continue
            rows.append(uvloop.run(run_transport(name, factory, ports, args)))
    finally:
        sink.terminate()
        sink.join(5)
    header = f"{'transport':<24}{'burst/s':>10}{'paced/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
    header += f"{'timer p99 ms':>14}{'retries':>9}"
    print(header)
    for row in rows:
        print(f"{row['transport']:<24}{row['burst_per_s']:>10.0f}{row['paced_per_s']:>10}"
              f"{row['latency_p50_ms']:>9.1f}{row['latency_p99_ms']:>9.1f}{row['timer_lateness_p99_ms']:>14.2f}"
              f"{row['retries']:>9}")


if __name__ == "__main__":
    main()
