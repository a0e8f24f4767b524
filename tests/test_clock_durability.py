"""The clock survives a restart with ``--state`` in every mode: no retry comes late by the uptime.

Unit tests of ``restore_clock`` (with the real epoch injected) and one end-to-end test that
SIGKILLs a scaled-clock mock with twenty deliveries pending (bench/bench_restart.py) and holds
how late each resumed retry fired, in real seconds, to generous bounds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mock_server.core.clock import Clock
from mock_server.core.clock_state import CLOCK_KEY, LEGACY_MANUAL_KEY, ClockKeeper, restore_clock, save_clock
from mock_server.core.settings import Settings
from mock_server.core.store import SqliteBackend, Store

START = 1_780_000_000.0


def _store(path: Path) -> Store:
    return Store(SqliteBackend(path))


def test_a_fresh_state_file_starts_where_the_settings_say(tmp_path: Path) -> None:
    clock = restore_clock(Settings(clock="manual", clock_start=START), _store(tmp_path / "s.db"))
    assert clock.mode == "manual" and clock.now() == START


@pytest.mark.parametrize(
    ("mode", "scale", "downtime", "gained"),
    [
        ("manual", 1.0, 600.0, 0.0),  # only advance moves a manual clock, downtime included
        ("real", 1.0, 600.0, 600.0),
        ("scaled", 0.01, 6.0, 600.0),  # 6 real seconds down are 600 mock seconds at 1/100
    ],
)
def test_a_restart_resumes_the_position_plus_the_downtime_read_on_the_saved_clock(
    tmp_path: Path, mode: str, scale: float, downtime: float, gained: float
) -> None:
    store = _store(tmp_path / "s.db")
    first = Clock(mode, scale=scale, start=START)  # type: ignore[arg-type]
    first.advance(3600)  # a jump (an expired link, say) survives too
    save_clock(first, store, wall=2_000_000_000.0)
    saved_at = first.now()
    store.close()

    settings = Settings(clock=mode, time_scale=scale, clock_start=START + 999_999)  # ignored: the file has a clock
    second = restore_clock(settings, _store(tmp_path / "s.db"), wall=2_000_000_000.0 + downtime)
    assert second.now() == pytest.approx(saved_at + gained, abs=0.05)
    assert second.offset == 3600


def test_a_machine_clock_set_back_never_moves_the_mock_clock_back(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.db")
    save_clock(Clock("real", start=START), store, wall=2_000_000_000.0)
    saved = store.meta.get(CLOCK_KEY)
    assert saved is not None
    clock = restore_clock(Settings(clock="real"), store, wall=2_000_000_000.0 - 3600)
    assert clock.now() >= float(saved["now"])


def test_the_new_mode_applies_from_the_restored_position(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.db")
    save_clock(Clock("scaled", scale=0.5, start=START), store, wall=2_000_000_000.0)
    clock = restore_clock(Settings(clock="manual"), store, wall=2_000_000_010.0)
    assert clock.mode == "manual"
    assert clock.now() == pytest.approx(START + 20, abs=0.05)  # 10 real seconds on the saved 1/2 clock


def test_a_state_file_of_the_old_format_keeps_its_manual_clock(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.db")
    store.meta.put(LEGACY_MANUAL_KEY, {"now": START + 42})
    clock = restore_clock(Settings(clock="manual"), store)
    assert clock.now() == START + 42


def test_the_keeper_saves_every_jump(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.db")
    clock = Clock("manual", start=START)
    ClockKeeper(clock, store)
    clock.advance(30)
    saved = store.meta.get(CLOCK_KEY)
    assert saved is not None and saved["now"] == START + 30 and saved["offset"] == 30


# -- end to end: SIGKILL a scaled-clock mock with deliveries pending -----------------------------

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_restart.py"


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_sigkill_under_load_on_a_scaled_clock_then_the_retries_fire_at_their_recorded_times() -> None:
    """bench/bench_restart.py with twenty deliveries pending: its figures, held to generous bounds.

    At scale 0.5 the retries at +5/+15/+35 mock seconds fall 2.5, 7.5 and 17.5 real seconds after the
    first attempt: the early ones may fall while the mock is down (a loaded machine takes seconds to
    start it again), the last one falls after the restart, so something is always judged.
    """
    done = subprocess.run([sys.executable, str(BENCH), "--notes", "20", "--scale", "0.5", "--json"],
                          capture_output=True, text=True, timeout=170)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["schedules"] == [[0, 5, 15, 35]], figures  # no attempt lost, none added
    assert figures["resumed_after_restart"] >= 20, f"no retry fell due after the restart: {figures}"
    # The clock never moves back: it gained at least half the downtime read on the scaled clock.
    assert figures["clock_gap_s"] >= figures["restart_s"] / 0.5 * 0.5, figures
    # Real seconds late (generous, a loaded CI machine). The defect this guards against, a clock moved
    # back at restart, made every resumed retry late by as long as the mock had been up.
    assert figures["late_p50_ms"] < 1000 and figures["late_max_ms"] < 2500, figures
