"""Garbage-collection pauses while a client pages through a big backlog, per set of GC thresholds.

    .venv/bin/python bench/bench_gc.py [--documents 100000] [--thresholds serve 20000,20,10 ...]
                                       [--max-pages 0] [--json]

Why in-process: the pauses are read from ``gc.callbacks`` (start -> stop of every collection, by
generation), which only the server's own process sees. Each set of thresholds runs in a fresh
interpreter: ``create_app`` with ``--documents`` seeded, then what ``askara-mock serve`` does
before serving (``gc.collect``, ``gc.freeze``, the thresholds; ``serve`` = :func:`tune_gc`'s own),
then every page of ``GET /documents`` and of ``?synchronized=false`` once, 30 per page, through
Starlette's TestClient (no network; the rate limit off). Per run: the request times (p50 / p99 /
max, ms), the CPU seconds of the paging, and per generation the number of collections, their
median and longest pause and their total (ms).

Prints a table; always exits 0 (it measures, it does not judge).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import subprocess
import sys
import time
from typing import Any

PER_PAGE = 30


def percentile_ms(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1)] * 1000


def one_run(documents: int, thresholds: str, max_pages: int) -> dict[str, Any]:
    """The figures of one set of thresholds, in this process (called by the child)."""
    import warnings

    warnings.simplefilter("ignore")  # Starlette's TestClient deprecation notice
    from starlette.testclient import TestClient

    from mock_server import Settings, create_app
    from mock_server.serving import GC_THRESHOLDS, tune_gc

    app = create_app(Settings(seed_documents=documents, rate_limit_capacity=0))
    if thresholds == "serve":
        tune_gc()
        thresholds = ",".join(map(str, GC_THRESHOLDS))
    else:
        gc.collect()
        gc.freeze()
        gc.set_threshold(*(int(part) for part in thresholds.split(",")))
    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    started = [0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses[info["generation"]].append(time.perf_counter() - started[0])

    ctx = app.state.mock
    user = ctx.store.users.values()[0]
    token = ctx.tokens.issue_pair(ctx.settings.client_id, user["uuid"], ["read:documents"])["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    times: list[float] = []
    gc.callbacks.append(on_gc)
    cpu = time.process_time()
    with TestClient(app) as client:
        for query in ("", "&synchronized=false"):
            page = 1
            while not max_pages or page <= max_pages:
                start = time.perf_counter()
                answer = client.get(f"/documents?itemsPerPage={PER_PAGE}&page={page}{query}", headers=headers)
                times.append(time.perf_counter() - start)
                if answer.status_code != 200 or not answer.json():
                    break
                page += 1
    cpu = time.process_time() - cpu
    gc.callbacks.remove(on_gc)
    figures: dict[str, Any] = {"thresholds": thresholds, "requests": len(times), "cpu_s": round(cpu, 2)}
    figures.update({f"p{q}_ms": round(percentile_ms(times, q), 2) for q in (50, 99)})
    figures["max_ms"] = round(max(times) * 1000, 1)
    for generation, values in pauses.items():
        figures[f"gen{generation}"] = {
            "count": len(values), "median_ms": round(percentile_ms(values, 50), 2),
            "max_ms": round(max(values, default=0) * 1000, 1), "total_ms": round(sum(values) * 1000),
        }  # fmt: skip
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--thresholds", nargs="+", default=["serve", "20000,20,10"],
                        help="'serve' (tune_gc's own) or young,middle,old; each in a fresh interpreter.")
    parser.add_argument("--max-pages", type=int, default=0, help="0: every page; else that many of each list.")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # the child's mode
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.documents, args.thresholds[0], args.max_pages)))
        return
    runs = []
    for thresholds in args.thresholds:
        argv = [sys.executable, __file__, "--one", "--documents", str(args.documents), "--max-pages",
                str(args.max_pages), "--thresholds", thresholds]  # fmt: skip
        child = subprocess.run(argv, capture_output=True, text=True, check=True)
        runs.append(json.loads(child.stdout))
    if args.json:
        print(json.dumps(runs))
        return
    print(f"GC pauses paging {args.documents} documents ({PER_PAGE} per page), load {os.getloadavg()[0]:.2f}")
    print(f"{'thresholds':<14} {'requests':>8} {'cpu s':>6} {'p50':>6} {'p99':>6} {'max':>6}   "
          + "   ".join(f"gen{g} n / median / max / total ms" for g in range(3)))  # fmt: skip
    for run in runs:
        gens = "   ".join(
            f"{run[f'gen{g}']['count']:>5} / {run[f'gen{g}']['median_ms']:>6} / {run[f'gen{g}']['max_ms']:>6} / "
            f"{run[f'gen{g}']['total_ms']:>5}" for g in range(3)
        )
        print(f"{run['thresholds']:<14} {run['requests']:>8} {run['cpu_s']:>6} {run['p50_ms']:>6} {run['p99_ms']:>6} "
              f"{run['max_ms']:>6}   {gens}")  # fmt: skip


if __name__ == "__main__":
    main()
