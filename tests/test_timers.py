"""Errors raised in timer callbacks (the sender's attempts and retries run there) are never lost:
kept on the Timers, logged on ``askara_mock``, and re-raised by ``settle()`` and the in-process
sender helpers, so a test cannot pass over a callback that crashed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from mock_server.core.clock import Clock, Timers
from mock_server.testing.sender import build_context, running_sender, sender_settings, settle, start, stop


class Boom(Exception):
    """A callback's bug."""


def manual_timers() -> Timers:
    return Timers(Clock("manual", start=1_000.0))


def test_a_raising_callback_makes_settle_raise_it_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []

    async def story() -> None:
        timers = manual_timers()
        await timers.start()

        def broken() -> None:
            raise Boom("sync callback")

        timers.call_at(1_001.0, broken, key="broken")
        timers.call_at(1_002.0, lambda: ran.append("after"))  # the scheduler lives on
        timers.clock.advance(5)
        with pytest.raises(Boom, match="sync callback"):
            await timers.settle()
        assert timers.errors == []  # raised once, then forgotten
        await timers.settle()
        await timers.stop()

    with caplog.at_level(logging.ERROR, logger="askara_mock"):
        asyncio.run(story())
    assert ran == ["after"]
    (record,) = [r for r in caplog.records if r.name == "askara_mock"]
    assert "'broken'" in record.getMessage() and record.exc_info is not None
    assert isinstance(record.exc_info[1], Boom)


def test_errors_of_several_coroutine_callbacks_come_as_one_group(caplog: pytest.LogCaptureFixture) -> None:
    async def story() -> None:
        timers = manual_timers()
        await timers.start()

        async def fails(n: int) -> None:
            await asyncio.sleep(0)
            raise Boom(f"attempt {n}")

        for n in (1, 2):
            timers.call_at(1_001.0 + n, lambda n=n: fails(n))
        timers.clock.advance(5)
        with pytest.raises(ExceptionGroup) as caught:
            await timers.settle()
        assert sorted(str(e) for e in caught.value.exceptions) == ["attempt 1", "attempt 2"]
        await timers.stop()

    with caplog.at_level(logging.ERROR, logger="askara_mock"):
        asyncio.run(story())
    assert len([r for r in caplog.records if r.name == "askara_mock"]) == 2


def raising(message: str) -> Callable[[], None]:
    def callback() -> None:
        raise Boom(message)

    return callback


def test_the_sender_helpers_reraise_callback_errors() -> None:
    async def via_settle() -> None:
        async with running_sender() as ctx:
            ctx.timers.call_at(ctx.clock.now(), raising("in settle"))
            with pytest.raises(Boom, match="in settle"):
                await settle(ctx)

    async def on_leaving_running_sender() -> None:
        async with running_sender() as ctx:
            ctx.timers.call_at(ctx.clock.now(), raising("on exit"))
            for _ in range(3):
                await asyncio.sleep(0)

    async def via_stop() -> None:
        ctx = build_context(sender_settings())
        await start(ctx)
        ctx.timers.call_at(ctx.clock.now(), raising("in stop"))
        for _ in range(3):
            await asyncio.sleep(0)
        with pytest.raises(Boom, match="in stop"):
            await stop(ctx)

    asyncio.run(via_settle())
    with pytest.raises(Boom, match="on exit"):
        asyncio.run(on_leaving_running_sender())
    asyncio.run(via_stop())
