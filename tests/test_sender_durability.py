"""``--state``: a mock killed with SIGKILL mid-schedule resumes every retry at its time, none lost or new."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from mock_server.serving import free_port
from mock_server.testing.receiver import ScriptedReceiver, receiver_in_thread
from mock_server.testing.sender import add_webhook, build_context, emit_note, sender, sender_settings, start, stop

START = 1_780_000_000.0


def receiver_thread(default: str):  # type: ignore[no-untyped-def]
    """A receiver in a thread (the mock runs in another process), answering ``default`` 100 times."""
    return receiver_in_thread(*[default] * 100)


def serve(state: Path, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from mock_server.cli import main; main()", "serve", "--state", str(state),
               "--clock", "manual",
               "--clock-start", str(START), "--port", str(port), "--client-secret", "s3cret"]
    with state.with_suffix(".log").open("ab") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(command, stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/_mock/clock", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
        if process.poll() is not None:
            raise RuntimeError(state.with_suffix(".log").read_text())
    process.kill()
    raise RuntimeError("the mock did not start")


def wait_for(predicate, what: str, timeout: float = 10):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def deliveries(api: httpx.Client) -> list[dict]:
    return api.get("/_mock/deliveries").json()["items"]


def kill(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)


@pytest.mark.e2e
def test_sigkill_mid_schedule_then_restart_resumes_the_retries(tmp_path: Path) -> None:
    state, port = tmp_path / "state.db", free_port()
    with receiver_thread("status/500") as rx:
        process = serve(state, port)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as api:
                token = api.get("/_mock/credentials").json()["access_token"]
                created = api.post("/webhooks", headers={"Authorization": f"Bearer {token}"},
                                   json={"url": rx.url("/hook"), "events": ["new_note"], "active": True})
                assert created.status_code == 201, created.text
                assert api.post("/_mock/notes", json={}).status_code == 201
                wait_for(lambda: len(rx.requests) == 1 and deliveries(api)[0]["attempts"], "the first attempt")
                api.post("/_mock/clock/advance", json={"seconds": 5, "wait": True})
                wait_for(lambda: len(deliveries(api)[0]["attempts"]) == 2, "the first retry")
                kill(process)

            process = serve(state, port)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as api:
                [delivery] = deliveries(api)
                assert delivery["state"] == "pending" and len(delivery["attempts"]) == 2
                assert delivery["next_attempt_at"] == delivery["created_at"] + 15
                time.sleep(0.3)
                assert len(rx.requests) == 2  # nothing sent again at start-up: the retry is not due yet
                api.post("/_mock/clock/advance", json={"seconds": 10, "wait": True})
                wait_for(lambda: len(deliveries(api)[0]["attempts"]) == 3, "the second retry")
                api.post("/_mock/clock/advance", json={"seconds": 20, "wait": True})
                wait_for(lambda: deliveries(api)[0]["state"] == "failed", "the failure queue")
                [delivery] = deliveries(api)
                offsets = [a["scheduled_at"] - delivery["created_at"] for a in delivery["attempts"]]
                assert offsets == [0, 5, 15, 35]
                assert [a["at"] - a["scheduled_at"] for a in delivery["attempts"]] == [0, 0, 0, 0]
                assert api.get("/_mock/failures").json()["total"] == 1
            assert len(rx.requests) == 4 and len({r.body for r in rx.requests}) == 1
            assert len({r.headers.get("user-agent") for r in rx.requests}) == 1
        finally:
            if process.poll() is None:
                kill(process)


def test_overdue_retries_run_at_once_and_in_order_after_a_restart(tmp_path: Path) -> None:
    """In process: the first mock dies without shutting down; the clock has moved past every retry."""

    async def scenario() -> None:
        settings = sender_settings(state_path=str(tmp_path / "state.db"))
        async with ScriptedReceiver() as rx:
            rx.script.extend(["status/500"] * 10)
            first = build_context(settings)
            await start(first)
            add_webhook(first, rx.url("/hook"))
            emit_note(first)
            await first.timers.settle()
            first.clock.advance(2)  # remembered in the state file (manual clock)
            await first.timers.stop()  # dies: no shutdown hooks, nothing flushed beyond the write-through
            first.store.close()
            await sender(first).transport.close()  # only to keep the test process tidy

            second = build_context(settings)
            second.clock.advance(100)
            await start(second)
            await second.timers.settle()
            [delivery] = second.store.deliveries.values()
            assert [a["scheduled_at"] - delivery["created_at"] for a in delivery["attempts"]] == [0, 5, 15, 35]
            assert delivery["state"] == "failed" and len(rx.requests) == 4
            await stop(second)

    asyncio.run(asyncio.wait_for(scenario(), timeout=60))
