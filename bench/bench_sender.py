"""Webhook sender benchmark: deliveries per second to a local sink, delivery latency, timer lateness.

    .venv/bin/python bench/bench_sender.py [--events 2500] [--rate 500] [--seconds 4] [--runs 1] [--gc-off]
                                           [--only http1|aiohttp|httpx-per-destination|httpx-shared]

A sink PROCESS (its own interpreter and GIL; uvloop, raw protocol, keep-alive, answers at once)
listens on 4 ports; 4 webhooks (one per port, so "per destination" means something) subscribe to
``new_note``; each event is one delivery per webhook. For each transport, the sender runs in this
process on uvloop with a scaled clock (0.01: retries 5/15/35 mock s after the first attempt =
50/150/350 ms):

* raw: the transport alone through ``attempt()`` (limiter, timeout, outcome; no records), the
  same number of requests as the burst: the ceiling the sender's own work is measured against.
* burst: ``--events`` events at once to ``/hook`` (always 200); deliveries/s = deliveries / wall
  time until all answered. The bench then waits until nothing is pending.
* paced: ``--rate`` events/s (x4 deliveries/s) for ``--seconds`` to ``/flaky``, where the sink
  answers 500 to one request in 10, so retries run under load; p50/p99 of event-to-answer latency
  of first attempts, p99 of ``ctx.timers.lateness_samples`` (every timer fired in the phase), and
  the longest full (generation 2) garbage collection during the phase; ``--gc-off`` turns the
  collector off for the phase, to show how much of the tail is the collector's.

Bounded: every phase stops after a deadline. Goals (2 cores): >= 2000 deliveries/s, p99 delivery
latency <= 50 ms, timer lateness p99 <= 10 ms. Results are written up in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import os
import statistics
import time
from typing import Any

WEBHOOKS = 4
FAIL_EVERY = 10


def _sink(ports: list[int], ready: Any) -> None:
    """Answer every request at once: 200, or 500 to one ``/flaky`` request in ``FAIL_EVERY``."""
    import uvloop

    class Sink(asyncio.Protocol):
        flaky = 0

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
                stop = head.find(b"\r\n", start)
                length = int(head[start + 15 : stop if stop > 0 else None])
                if len(self.buffer) < end + 4 + length:
                    return
                status = b"200 OK"
                if head.startswith(b"post /flaky"):
                    Sink.flaky += 1
                    if Sink.flaky % FAIL_EVERY == 0:
                        status = b"500 Internal Server Error"
                self.buffer = self.buffer[end + 4 + length :]
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


class GcPauses:
    """Wall time of the interpreter's garbage collections while active: the usual cause of a tail."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self.active = False
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self.active and info["generation"] == 2:
            self.pauses.append((time.perf_counter() - self._started) * 1000)


GC = GcPauses()


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


async def run_raw(factory: Any, ports: list[int], requests: int) -> float:
    """Requests/s of the transport alone, through ``attempt()`` as the sender calls it."""
    from mock_server.sender._transports.base import DestinationLimiter, attempt

    transport, limiter = factory(), DestinationLimiter(100)
    urls = [f"http://127.0.0.1:{port}/hook" for port in ports]
    body = b'{"events":[{"action":"new_note","id":"' + b"x" * 36 + b'"}],"meta":{"webhook_id":"w"}}'
    headers = {"Content-Type": "application/json", "User-Agent": "bench"}

    async def one(index: int) -> bool:
        outcome = await attempt(transport, urls[index % len(urls)], body, headers, timeout=5, keep_bytes=1024,
                                max_bytes=1 << 20, limiter=limiter)
        return outcome.ok

    try:
        await asyncio.gather(*(one(i) for i in range(200)))  # open the connections
        started = time.perf_counter()
        results = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(requests))), 60)
        return sum(results) / (time.perf_counter() - started)
    except TimeoutError:
        return 0.0
    finally:
        await transport.close()


async def run_transport(name: str, factory: Any, ports: list[int], args: argparse.Namespace) -> dict[str, Any]:
    from mock_server.testing.sender import add_webhook, build_context, emit_note, sender_settings, start, stop

    result: dict[str, Any] = {"transport": name, "load": os.getloadavg()[0]}
    result["raw_per_s"] = await run_raw(factory, ports, args.events * WEBHOOKS)
    counting = Counting(factory())
    # the default bounded log (delivery_limit 10 000) keeps every paced delivery (8 000 at 2 000/s x 4 s)
    settings = sender_settings(clock="scaled", time_scale=0.01, clock_start=None)
    ctx = build_context(settings, counting)  # type: ignore[arg-type]
    await start(ctx)
    hooks = [add_webhook(ctx, f"http://127.0.0.1:{port}/hook", ["new_note"]) for port in ports]
    for _ in range(50):  # warm-up: open connections
        emit_note(ctx)
    await _wait(counting, 50 * WEBHOOKS, 10)

    # burst
    target = counting.done + args.events * WEBHOOKS
    started = time.perf_counter()
    for _ in range(args.events):
        emit_note(ctx)
    finished = await _wait(counting, target, 60)
    result["burst_per_s"] = (args.events * WEBHOOKS) / (time.perf_counter() - started) if finished else 0.0
    await _settled(ctx, 30)

    # paced, with 10% failures and their retries
    for hook in hooks:
        hook["url"] = hook["url"].replace("/hook", "/flaky")
    ctx.timers.lateness_samples.clear()
    GC.pauses.clear()
    GC.active = True
    if args.gc_off:
        gc.disable()
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
    await _settled(ctx, 10)  # the last retries come 350 ms after their first attempt
    GC.active = False
    gc.enable()
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
        gc_max_ms=max(GC.pauses, default=0.0),
        failures=sum(1 for d in ctx.store.deliveries for a in d["attempts"] if a["failure"] not in (None, "status")),
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


async def _settled(ctx: Any, timeout: float) -> None:
    """Until no delivery is pending (retries included), so one phase does not spill into the next."""
    deadline = time.perf_counter() + timeout
    while any(d["state"] == "pending" for d in ctx.store.deliveries) and time.perf_counter() < deadline:
        await asyncio.sleep(0.02)


def main() -> None:
    import uvloop

    from mock_server.sender._transports.aiohttp_transport import AiohttpTransport
    from mock_server.sender._transports.http1 import Http1Client
    from mock_server.sender._transports.httpx_transport import HttpxTransport
    from mock_server.serving import free_port, tune_gc

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2500, help="events in the burst (x4 deliveries)")
    parser.add_argument("--rate", type=int, default=500, help="events per second in the paced phase (x4 deliveries)")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--runs", type=int, default=1, help="repeat every transport this many times")
    parser.add_argument("--gc-off", action="store_true",
                        help="diagnosis only: no garbage collection during the paced phase")
    parser.add_argument("--default-gc", action="store_true",
                        help="keep CPython's default GC thresholds instead of serve's tune_gc()")
    parser.add_argument("--only", choices=("http1", "aiohttp", "httpx-per-destination", "httpx-shared"), default=None)
    args = parser.parse_args()

    if not args.default_gc:
        tune_gc()  # as `askara-mock serve` does
    ports = [free_port() for _ in range(WEBHOOKS)]
    ready = multiprocessing.get_context("spawn").Event()
    sink = multiprocessing.get_context("spawn").Process(target=_sink, args=(ports, ready), daemon=True)
    sink.start()
    ready.wait(20)
    transports = {
        "http1": Http1Client,
        "aiohttp": AiohttpTransport,
        "httpx-per-destination": lambda: HttpxTransport(per_destination=True),
        "httpx-shared": lambda: HttpxTransport(per_destination=False),
    }
    rows = []
    try:
        for _ in range(args.runs):
            for name, factory in transports.items():
                if args.only and name != args.only:
                    continue
                rows.append(uvloop.run(run_transport(name, factory, ports, args)))
    finally:
        sink.terminate()
        sink.join(5)
    header = f"{'transport':<24}{'load':>6}{'raw/s':>8}{'burst/s':>9}{'paced/s':>9}{'p50 ms':>8}{'p99 ms':>8}"
    header += f"{'timer p99 ms':>14}{'retries':>9}{'errors':>8}{'full GC ms':>12}"
    print(header)
    for row in rows:
        print(f"{row['transport']:<24}{row['load']:>6.2f}{row['raw_per_s']:>8.0f}{row['burst_per_s']:>9.0f}"
              f"{row['paced_per_s']:>9}{row['latency_p50_ms']:>8.1f}{row['latency_p99_ms']:>8.1f}"
              f"{row['timer_lateness_p99_ms']:>14.2f}{row['retries']:>9}{row['failures']:>8}{row['gc_max_ms']:>12.0f}")


if __name__ == "__main__":
    main()
