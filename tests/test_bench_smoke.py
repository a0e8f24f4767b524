"""The API benchmark still runs end to end: both servers start, load flows, the table prints.

No wall-clock assertion: the figures depend on the machine; only the shape of the output is checked.
"""

from __future__ import annotations

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

