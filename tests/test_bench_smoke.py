"""The benchmarks still run end to end: servers start, load flows, the figures print.

No wall-clock assertion: the figures depend on the machine; only the shape of the output is
checked, and timings against bounds generous enough for a loaded CI machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e  # every test here runs real processes on loopback

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_api.py"


def test_smoke_run_prints_the_table() -> None:
    result = subprocess.run([sys.executable, str(BENCH), "--smoke"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines, f"no output; stderr:\n{result.stderr}"
    assert lines[0].startswith("load generator: python"), result.stdout
    assert "20 documents" in lines[0]
    assert lines[1].split()[:4] == ["server", "requests/s", "p50", "ms"]
    rows = {line.split()[0]: line.split() for line in lines[2:4]}
    assert set(rows) == {"bare", "mock"}
    for row in rows.values():
        assert float(row[1]) > 0, result.stdout
        assert row[5] == "0", f"non-2xx answers during the run:\n{result.stdout}"
    assert lines[4].startswith("ratio mock/bare: "), result.stdout



BIGSTATE = BENCH.parent / "bench_bigstate.py"
STARTUP = BENCH.parent / "bench_startup.py"


def test_bigstate_smoke_pages_a_small_backlog_while_retries_fire() -> None:
    """``serve --documents`` for real, every page of both lists, timers measured from the delivery log."""
    argv = [sys.executable, str(BIGSTATE), "--documents", "150", "--items-per-page", "20", "--event-rate", "50",
            "--seed-runs", "1", "--deadline", "60", "--json"]  # fmt: skip
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["errors"] == 0, figures
    assert len(figures["pages"]) == 8 and len(figures["synchronized=false"]) >= 1
    assert figures["events"] >= 1 and len(figures["timer lateness"]) >= figures["events"]
    assert all(-0.001 < late < 5.0 for late in figures["timer lateness"])  # generous: a loaded CI machine
    assert 10 < figures["rss_mb"] < 2000 and 0 < figures["ready_s"] < 60 and figures["seed_s"] > 0


def test_startup_smoke_prints_every_figure() -> None:
    result = subprocess.run([sys.executable, str(STARTUP), "--runs", "1", "--json"], capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    medians = json.loads(result.stdout)["median_s"]
    assert set(medians) == {"help", "client", "serve"} and all(0 < value < 30 for value in medians.values())


def test_hostile_clients_bench_reports_every_limit() -> None:
    bench = BENCH.parent / "bench_hostile.py"
    result = subprocess.run([sys.executable, str(bench), "--idle", "20", "--json"], capture_output=True, text=True,
                            timeout=90)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["idle"] == {"connections": 20, "unanswered": 0, "closed_after_keep_alive": 20}
    assert figures["slow_headers"]["status"] == 408
    assert figures["big_header"]["status"] == 431
    assert figures["over_the_limit"]["next_connection_status"] == 503


def test_gc_bench_reports_every_generation_per_thresholds() -> None:
    bench = BENCH.parent / "bench_gc.py"
    argv = [sys.executable, str(bench), "--documents", "200", "--max-pages", "3", "--thresholds", "serve", "50,2,2",
            "--json"]  # fmt: skip
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    serve, tiny = json.loads(result.stdout)
    from mock_server.serving import GC_THRESHOLDS

    assert serve["thresholds"] == ",".join(map(str, GC_THRESHOLDS)) and tiny["thresholds"] == "50,2,2"
    assert serve["requests"] == tiny["requests"] == 6
    assert tiny["gen0"]["count"] > 0 and all(0 <= tiny[f"gen{g}"]["max_ms"] < 5000 for g in range(3))
